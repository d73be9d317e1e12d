import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertOneLineError } from '../testing/cli.js';
import { startWorkerProcess } from '../testing/processes.js';
import { makeTempDir } from '../testing/temp.js';
import { UserError } from '../util/errors.js';
import { waitFor, SECOND } from '../util/time.js';
import { FARM_SECRET, startFakeManager } from './fake-manager.js';
import { HOME_LOCK_FILE, acquireHomeLock } from './home-lock.js';
import { processStartTime } from './proc-stat.js';

/** A live process that is not this one, ended when the test ends. */
function otherProcess(t: TestContext): ChildProcess {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 120000)'], { stdio: 'ignore' });
  t.after(() => child.kill('SIGKILL'));
  return child;
}

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

const lockOf = (home: string) =>
  JSON.parse(readFileSync(join(home, HOME_LOCK_FILE), 'utf8')) as { pid: number; startTime?: string };

describe('home lock', () => {
  it('is refused while its holder lives, naming it; released, it can be taken again', (t) => {
    const home = makeTempDir(t);
    const holder = otherProcess(t);
    writeFileSync(
      join(home, HOME_LOCK_FILE),
      JSON.stringify({ pid: holder.pid, startTime: processStartTime(holder.pid!) }),
    );
    assert.throws(
      () => acquireHomeLock(home),
      (error: unknown) => {
        assert.ok(error instanceof UserError);
        assert.equal(error.message, `another kiln worker (pid ${holder.pid}) is already running with home ${home}`);
        return true;
      },
    );

    const other = makeTempDir(t);
    const lock = acquireHomeLock(other);
    assert.equal(lockOf(other).pid, process.pid);
    assert.throws(
      () => acquireHomeLock(other),
      /already running/,
      'a second worker in this very process is refused too',
    );
    lock.release();
    assert.equal(existsSync(join(other, HOME_LOCK_FILE)), false);
    acquireHomeLock(other).release();
  });

  it('takes over a stale lock: a dead holder, a pid now used by another process, a damaged file', async (t) => {
    const alive = otherProcess(t);
    const stale = [
      JSON.stringify({ pid: await deadPid(), startTime: '1' }),
      JSON.stringify({ pid: alive.pid, startTime: `${Number(processStartTime(alive.pid!)) + 1}` }),
      '{"pid": 12',
      '',
    ];
    for (const content of stale) {
      const home = makeTempDir(t);
      writeFileSync(join(home, HOME_LOCK_FILE), content);
      const lock = acquireHomeLock(home);
      assert.equal(lockOf(home).pid, process.pid, `took over ${JSON.stringify(content)}`);
      lock.release();
    }
  });

  it('a lock taken over by another worker is not removed by the one that lost it', (t) => {
    const home = makeTempDir(t);
    const lock = acquireHomeLock(home);
    const holder = otherProcess(t);
    const theirs = JSON.stringify({ pid: holder.pid, startTime: processStartTime(holder.pid!) });
    writeFileSync(join(home, HOME_LOCK_FILE), theirs);
    lock.release();
    assert.equal(readFileSync(join(home, HOME_LOCK_FILE), 'utf8'), theirs);
  });

  it('kiln worker: a second worker on one home refuses in one line while the first lives; after a SIGKILL the next one takes over', async (t) => {
    const manager = await startFakeManager(t);
    const home = makeTempDir(t);
    writeFileSync(join(home, 'worker.yaml'), 'taskWaitMs: 300\nreconnectMaxDelayMs: 300\n');
    const first = startWorkerProcess(home, manager.url, 'one', FARM_SECRET);
    t.after(() => first.stop());
    await waitFor(() => manager.calls('/worker/sign-on').length === 1, {
      timeoutMs: 30 * SECOND,
      what: 'the first worker to sign on',
    });

    const second = startWorkerProcess(home, manager.url, 'two', FARM_SECRET);
    t.after(() => second.stop());
    // Bounded: a second worker that is not refused would run on for good.
    const exited = await waitFor(() => second.child.exitCode !== null, {
      timeoutMs: 30 * SECOND,
      what: 'the second worker to refuse and exit',
    }).catch(() => false);
    assert.ok(exited, `the second worker kept running:\n${second.output()}`);
    assertOneLineError(
      { code: second.child.exitCode, stdout: '', stderr: second.output() },
      new RegExp(`^kiln: another kiln worker \\(pid ${first.child.pid}\\) is already running with home ${home}\\n$`),
    );
    assert.equal(manager.calls('/worker/register').length, 1, 'the second worker never talked to the manager');
    assert.equal(manager.calls('/worker/sign-on').length, 1);

    await first.kill('SIGKILL');
    assert.equal(lockOf(home).pid, first.child.pid, 'a killed worker leaves its lock behind');
    const third = startWorkerProcess(home, manager.url, 'three', FARM_SECRET);
    t.after(() => third.stop());
    await waitFor(() => manager.calls('/worker/sign-on').length === 2, {
      timeoutMs: 30 * SECOND,
      what: 'the next worker to sign on',
    });
    assert.equal(lockOf(home).pid, third.child.pid, 'the stale lock was taken over');

    // A clean stop (SIGINT as from a terminal) signs off and releases the lock.
    await third.kill('SIGINT');
    assert.equal(third.child.exitCode, 0, third.output());
    assert.equal(manager.calls('/worker/sign-off').length, 1);
    assert.equal(existsSync(join(home, HOME_LOCK_FILE)), false, 'lock released');
  });
});
