/**
 * scripts/run-tests.mjs interrupted: the tests it started clean up (their after-hooks run) before it
 * exits, no queued file starts, and nothing it started is left; a second signal kills at once.
 * The runner runs small fixture test files in a temp dir, each holding a resource (a child process
 * and a directory) that only its after-hook releases.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTempDir } from './temp.js';
import { isLive } from './proc-table.js';
import { waitFor, SECOND } from '../util/time.js';

const RUN_TESTS = fileURLToPath(new URL('../../../scripts/run-tests.mjs', import.meta.url));

/** A test that holds a sleeping child process and a directory until its after-hook (which `hookBody` may stall). */
const holdingFixture = (hookBody = '') => `
const { test, describe, it } = require('node:test');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const marks = process.env.FIXTURE_MARKS;
const name = path.basename(__filename, '.test.js');
describe('a suite', () => {
  it('holds a resource until its after-hook', async (t) => {
    const resource = fs.mkdtempSync(path.join(marks, name + '-resource-'));
    const sleeper = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    const exited = new Promise((resolve) => sleeper.once('exit', resolve));
    t.after(async () => {
      fs.writeFileSync(path.join(marks, name + '.cleaning'), '');
      ${hookBody}
      sleeper.kill('SIGKILL');
      await exited;
      fs.rmSync(resource, { recursive: true });
      fs.writeFileSync(path.join(marks, name + '.cleaned'), '');
    });
    fs.writeFileSync(path.join(marks, name + '.started'), JSON.stringify({ pid: process.pid, sleeper: sleeper.pid, resource }));
    await exited;
  });
  it('comes after it', () => fs.writeFileSync(path.join(marks, name + '.second'), ''));
});
`;

const laterFixture = `
require('node:test').test('runs once a slot is free', () =>
  require('node:fs').writeFileSync(require('node:path').join(process.env.FIXTURE_MARKS, 'later.started'), ''));
`;

interface Started {
  pid: number;
  sleeper: number;
  resource: string;
}

/** The runner on fixture files `a`, `b` (each holding a resource) and `later`, in a temp dir of its own. */
async function startRunner(t: { after: (fn: () => unknown) => void }, hookBody?: string, env: NodeJS.ProcessEnv = {}) {
  const dir = makeTempDir(t, 'kiln-runner-');
  const marks = join(dir, 'marks');
  mkdirSync(join(dir, 'dist', 'src'), { recursive: true });
  mkdirSync(marks);
  writeFileSync(join(dir, 'dist', 'src', 'a.test.js'), holdingFixture(hookBody));
  writeFileSync(join(dir, 'dist', 'src', 'b.test.js'), holdingFixture(hookBody));
  writeFileSync(join(dir, 'dist', 'src', 'later.test.js'), laterFixture);
  const runner = spawn(process.execPath, [RUN_TESTS], {
    cwd: dir,
    env: { ...process.env, FIXTURE_MARKS: marks, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  runner.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  runner.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => runner.once('exit', (code) => resolve(code)));
  const started: Started[] = [];
  t.after(() => {
    // Whatever the test saw, nothing it made stays.
    for (const pid of [runner.pid, ...started.flatMap((s) => [s.pid, s.sleeper])])
      if (pid !== undefined && isLive(pid)) process.kill(pid, 'SIGKILL');
  });
  await waitFor(() => existsSync(join(marks, 'a.started')) && existsSync(join(marks, 'b.started')), {
    timeoutMs: 30 * SECOND,
    what: 'both holding fixtures to start',
  });
  for (const name of ['a', 'b']) started.push(JSON.parse(readFileSync(join(marks, `${name}.started`), 'utf8')));
  return { runner, marks, started, exited, output: () => output };
}

test('SIGTERM to the runner: the running tests are cancelled, their after-hooks run, no queued file starts, nothing is left', async (t) => {
  const { runner, marks, started, exited, output } = await startRunner(t);
  runner.kill('SIGTERM');
  assert.equal(await exited, 143, output());
  for (const name of ['a', 'b']) {
    assert.ok(existsSync(join(marks, `${name}.cleaned`)), `${name}'s after-hook ran:\n${output()}`);
    assert.ok(!existsSync(join(marks, `${name}.second`)), `${name}'s next test did not start`);
  }
  assert.ok(!existsSync(join(marks, 'later.started')), 'the queued file did not start');
  for (const { pid, sleeper, resource } of started) {
    assert.ok(!existsSync(resource), `${resource} removed`);
    assert.ok(!isLive(pid), `the test file's process ${pid} ended`);
    assert.ok(!isLive(sleeper), `the process ${sleeper} the test started ended`);
  }
  assert.match(output(), /interrupted \(SIGTERM\): cancelled, its after-hooks run/);
  assert.match(output(), /interrupted before this file started/);
});

test('a second signal kills the tests at once, even while an after-hook hangs; the same one again at once is not a second', async (t) => {
  const { runner, marks, started, exited, output } = await startRunner(
    t,
    'await new Promise(() => setInterval(() => {}, 1000));',
    // "At once" is a minute here, so that a slow machine cannot make the repeat a second signal.
    { RUN_TESTS_REPEAT_MS: '60000' },
  );
  runner.kill('SIGINT');
  await waitFor(() => existsSync(join(marks, 'a.cleaning')) && existsSync(join(marks, 'b.cleaning')), {
    what: 'the after-hooks to start (and hang)',
  });
  // Ctrl-C under npm reaches the runner twice (from the terminal, and passed on by npm).
  runner.kill('SIGINT');
  await waitFor(() => output().includes('SIGINT again at once: taken as the same one'), { what: 'the repeat noted' });
  for (const { pid } of started) assert.ok(isLive(pid), 'the repeat killed nothing');
  runner.kill('SIGTERM');
  assert.equal(await exited, 143, output());
  assert.match(output(), /SIGTERM again: killing the tests/);
  for (const { pid, sleeper } of started) {
    await waitFor(() => !isLive(pid) && !isLive(sleeper), { what: `processes ${pid} and ${sleeper} to be gone` });
  }
  assert.ok(!existsSync(join(marks, 'a.cleaned')), 'the hanging hook did not finish: the kill was hard');
});
