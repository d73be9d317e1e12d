import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../../util/time.js';
import { runExec } from './exec.js';
import { recordingContext } from './testing.js';
import { CommandAbortedError, CommandError } from './types.js';

const node = process.execPath;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // A zombie waiting for its parent counts as gone.
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

describe('exec command', () => {
  it('streams stdout and stderr lines to the log and succeeds on exit code 0', async () => {
    const { context, record } = recordingContext();
    await runExec(
      { argv: [node, '-e', 'console.log("one"); console.error("two"); process.stdout.write("three\\nfour")'] },
      context,
    );
    assert.deepEqual([...record.logs].sort(), ['four', 'one', 'three', 'two']);
    assert.equal(record.progress.at(-1), 1);
  });

  it('fails with the exit code, and names a program that does not exist', async () => {
    const { context, record } = recordingContext();
    await assert.rejects(
      runExec({ argv: [node, '-e', 'console.log("before failing"); process.exit(3)'] }, context),
      (error: unknown) => {
        assert.ok(error instanceof CommandError);
        assert.match(error.message, /exited with code 3/);
        return true;
      },
    );
    assert.deepEqual(record.logs, ['before failing']);
    await assert.rejects(
      runExec({ argv: ['kiln-no-such-program-anywhere'] }, recordingContext().context),
      /program not found: kiln-no-such-program-anywhere/,
    );
  });

  it('passes cwd and extra environment, without a shell', async (t) => {
    const dir = await realpath(await mkdtemp(join(tmpdir(), 'kiln-exec-test-')));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const { context, record } = recordingContext();
    await runExec(
      {
        argv: [
          node,
          '-e',
          'console.log(process.cwd()); console.log(process.env.KILN_TEST_VALUE); console.log(process.argv[1])',
          '$HOME && echo hi',
        ],
        cwd: dir,
        env: { KILN_TEST_VALUE: 'forty-two' },
      },
      context,
    );
    assert.deepEqual(record.logs, [dir, 'forty-two', '$HOME && echo hi']);
  });

  it('an abort kills the child and what it started, and settles within 2 s', async () => {
    const { context, record, controller } = recordingContext({ killGraceMs: 500 });
    const script = `
      const { spawn } = require('node:child_process');
      const grandchild = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      console.log('child ' + process.pid);
      console.log('grandchild ' + grandchild.pid);
      setInterval(() => {}, 1000);`;
    const running = runExec({ argv: [node, '-e', script] }, context);
    await waitFor(() => record.logs.length >= 2, { what: 'the child to start' });
    const pids = record.logs.map((line) => Number(line.split(' ')[1]));
    const started = Date.now();
    controller.abort(new Error('the manager said stop'));
    await assert.rejects(
      running,
      (error: unknown) => error instanceof CommandAbortedError && /the manager said stop/.test(error.message),
    );
    assert.ok(Date.now() - started < 2000, `settled after ${Date.now() - started} ms`);
    for (const pid of pids) await waitFor(() => !isAlive(pid), { timeoutMs: 2000, what: `process ${pid} to end` });
  });

  it('a child that ignores SIGTERM is killed with SIGKILL after the grace period', async () => {
    const { context, record, controller } = recordingContext({ killGraceMs: 300 });
    const running = runExec(
      {
        argv: [
          node,
          '-e',
          'process.on("SIGTERM", () => console.log("ignoring SIGTERM")); console.log("ready"); setInterval(() => {}, 1000)',
        ],
      },
      context,
    );
    await waitFor(() => record.logs.includes('ready'), { what: 'the child to start' });
    const started = Date.now();
    controller.abort();
    await assert.rejects(running, CommandAbortedError);
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 250 && elapsed < 2000, `settled after ${elapsed} ms`);
    assert.ok(record.logs.includes('ignoring SIGTERM'));
  });

  it('does not start when already aborted', async () => {
    const { context, controller } = recordingContext();
    controller.abort();
    await assert.rejects(runExec({ argv: [node, '-e', ''] }, context), CommandAbortedError);
  });
});
