import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { RecordingClock } from '../testing/retry-clock.js';
import { waitFor } from '../util/time.js';
import { FARM_SECRET, startFakeManager, type FakeManager } from './fake-manager.js';
import { runWorker } from './main.js';
import { EXIT_RESTART } from './worker.js';

const node = process.execPath;

function isRunning(pid: number): boolean {
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
const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

/** A Kiln home with fast timings, so the tests do not wait on production intervals. */
async function workerHome(t: TestContext): Promise<string> {
  const home = await mkdtemp(join(tmpdir(), 'kiln-worker-test-'));
  t.after(() => rm(home, { recursive: true, force: true }));
  await writeFile(
    join(home, 'worker.yaml'),
    [
      'name: test-worker',
      'mayIRunIntervalMs: 200',
      'taskWaitMs: 300',
      'sleepPollMs: 100',
      'reconnectMaxDelayMs: 300',
      'updateIntervalMs: 50',
      'killGraceMs: 500',
      '',
    ].join('\n'),
  );
  return home;
}

function start(
  t: TestContext,
  home: string,
  manager: FakeManager | string,
  signal?: AbortSignal,
  clock?: RecordingClock,
): Promise<number> {
  // A test that fails half-way must not leave its worker running.
  const cleanup = new AbortController();
  t.after(() => cleanup.abort());
  return runWorker({
    home,
    managerUrl: typeof manager === 'string' ? manager : manager.url,
    secret: FARM_SECRET,
    tags: ['gpu'],
    logger: pino({ level: process.env.KILN_TEST_LOG ? 'debug' : 'silent' }),
    handleSignals: false,
    // Self-discovery off: tests send no multicast on the host's own interfaces.
    env: { KILN_SELF_DISCOVERY: 'off' },
    signal: signal ? AbortSignal.any([signal, cleanup.signal]) : cleanup.signal,
    clock,
  });
}

describe('worker loop', () => {
  it('signs on again when the manager refuses it as timed out (409 sign_on_required), awake or asleep, then takes tasks', async (t) => {
    const home = await workerHome(t);
    const manager = await startFakeManager(t);
    const running = start(t, home, manager);
    await waitFor(() => manager.calls('/worker/task').length > 0, { what: 'the first task request' });
    const [workerId] = [...manager.workers.keys()];
    manager.mustSignOn.add(workerId!);
    await waitFor(() => manager.calls('/worker/sign-on').length === 2, { what: 'the awake worker to sign on again' });
    const task = manager.addTask([{ name: 'echo', parameters: { message: 'back' } }]);
    await waitFor(() => manager.statusesOf(task.id).includes('completed'), {
      timeoutMs: 20_000,
      what: 'the task after signing on again',
    });

    // Asleep, it polls its state: the same refusal brings it back through sign-on.
    manager.requested = 'asleep';
    await waitFor(() => manager.calls('/worker/state').some((call) => call.method === 'GET'), {
      what: 'the sleeping worker to poll',
    });
    manager.mustSignOn.add(workerId!);
    await waitFor(() => manager.calls('/worker/sign-on').length === 3, {
      what: 'the sleeping worker to sign on again',
    });
    manager.requested = 'offline';
    assert.equal(await running, 0);
  });

  it('registers, signs on, runs tasks with progress and previews, and signs off when told to shut down', async (t) => {
    const home = await workerHome(t);
    const manager = await startFakeManager(t);
    const echo = manager.addTask([
      { name: 'echo', parameters: { message: 'hello from the farm' } },
      { name: 'sleep', parameters: { seconds: 0.2 } },
    ]);
    const render = manager.addTask([
      {
        name: 'render-frames',
        parameters: { frames: [1, 2], width: 64, height: 36, output: join(home, 'out', 'frame_####.png') },
      },
    ]);
    const running = start(t, home, manager);

    await waitFor(() => manager.statusesOf(render.id).includes('completed'), {
      timeoutMs: 20_000,
      what: 'both tasks to complete',
    });
    manager.requested = 'offline';
    assert.equal(await running, 0);

    const signOn = manager.calls('/worker/sign-on')[0]?.json as {
      name: string;
      platform: string;
      supportedTaskTypes: string[];
      tags: string[];
    };
    assert.equal(signOn.name, 'test-worker');
    assert.deepEqual(signOn.tags, ['gpu']);
    for (const type of ['render', 'video', 'misc']) assert.ok(signOn.supportedTaskTypes.includes(type));
    assert.deepEqual(manager.statusesOf(echo.id), ['active', 'completed']);
    const echoLog = manager.updates
      .filter((entry) => entry.taskId === echo.id)
      .flatMap((entry) => entry.update.log ?? []);
    assert.ok(echoLog.includes('hello from the farm'));
    assert.ok(existsSync(join(home, 'out', 'frame_0002.png')));
    assert.ok(
      manager.previews.some(
        (preview) => preview.taskId === render.id && preview.contentType === 'image/png' && preview.bytes > 0,
      ),
    );
    const seqs = manager.updates.map((entry) => entry.update.seq ?? -1);
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => a - b),
    );
    assert.equal(manager.calls('/worker/sign-off').length, 1);
  });

  it('exits with 75 when the manager asks for a restart', async (t) => {
    const home = await workerHome(t);
    const manager = await startFakeManager(t);
    manager.requested = 'restart';
    assert.equal(await start(t, home, manager), EXIT_RESTART);
    assert.equal(manager.calls('/worker/sign-off').length, 1);
  });

  it('sleeps without asking for tasks until woken, then signs on again and works', async (t) => {
    const home = await workerHome(t);
    const manager = await startFakeManager(t);
    manager.requested = 'asleep';
    const running = start(t, home, manager);
    await waitFor(() => manager.calls('/worker/state').length >= 3, { what: 'the sleeping worker to poll its state' });
    assert.deepEqual(
      manager.calls('/worker/state')[0]?.json,
      { status: 'asleep' },
      'it tells the manager it is asleep',
    );
    assert.equal(manager.calls('/worker/task').length, 0, 'an asleep worker asks for no tasks');
    const task = manager.addTask([{ name: 'echo', parameters: { message: 'awake now' } }]);
    manager.requested = 'awake';
    await waitFor(() => manager.statusesOf(task.id).includes('completed'), { what: 'the task after waking' });
    assert.equal(manager.calls('/worker/sign-on').length, 2);
    manager.requested = 'offline';
    assert.equal(await running, 0);
  });

  it('stops a task the manager cancels, within about two seconds, without failing it', async (t) => {
    const home = await workerHome(t);
    const manager = await startFakeManager(t);
    const task = manager.addTask([
      {
        name: 'exec',
        parameters: { argv: [node, '-e', 'console.log("pid", process.pid); setInterval(() => {}, 1000)'] },
      },
    ]);
    const running = start(t, home, manager);
    const pidLine = await waitFor(
      () =>
        manager.updates
          .flatMap((entry) => (entry.taskId === task.id ? (entry.update.log ?? []) : []))
          .find((line) => line.startsWith('pid ')),
      { what: 'the task to run' },
    );
    const pid = Number(pidLine.slice(4));
    const canceledAt = Date.now();
    manager.stopped.add(task.id);
    await waitFor(() => !isRunning(pid), { timeoutMs: 5000, what: 'the command to be stopped' });
    // The may-i-run interval is 200 ms here; the stop itself must take well under two seconds.
    assert.ok(Date.now() - canceledAt < 2000, `stopped ${Date.now() - canceledAt} ms after the cancel`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(manager.statusesOf(task.id), ['active'], 'neither failed nor completed');
    manager.requested = 'offline';
    assert.equal(await running, 0);
  });

  it('on stop, sends the running task back as queued, signs off and exits 0', async (t) => {
    const home = await workerHome(t);
    const manager = await startFakeManager(t);
    const task = manager.addTask([{ name: 'sleep', parameters: { seconds: 60 } }]);
    const controller = new AbortController();
    const running = start(t, home, manager, controller.signal);
    await waitFor(() => manager.statusesOf(task.id).includes('active'), { what: 'the task to start' });
    const stoppedAt = Date.now();
    controller.abort();
    assert.equal(await running, 0);
    assert.ok(Date.now() - stoppedAt < 3000);
    assert.deepEqual(manager.statusesOf(task.id), ['active', 'queued']);
    assert.equal(manager.calls('/worker/sign-off').length, 1);
  });

  it('waits for a manager that is not there yet, keeps updates while it is away, and signs on again', async (t) => {
    const home = await workerHome(t);
    const manager = await startFakeManager(t);
    await manager.server.stop();
    const clock = new RecordingClock();
    const running = start(t, home, manager, undefined, clock);
    await waitFor(() => clock.waits.length >= 3, { what: 'the worker to retry while the manager is away' });
    assert.deepEqual(clock.waits.slice(0, 3), [250, 300, 300], 'retries back off up to reconnectMaxDelayMs');
    await manager.server.start();
    await waitFor(() => manager.calls('/worker/sign-on').length === 1, { what: 'the first sign-on' });

    const task = manager.addTask([
      { name: 'echo', parameters: { message: 'before the outage' } },
      { name: 'sleep', parameters: { seconds: 1 } },
      { name: 'echo', parameters: { message: 'during the outage' } },
    ]);
    await waitFor(() => manager.statusesOf(task.id).includes('active'), { what: 'the task to start' });
    await manager.server.stop();
    await waitFor(() => existsSync(join(home, 'worker-queue', 'journal.jsonl')), {
      timeoutMs: 5000,
      what: 'updates to be queued on disk',
    });
    const waitsBefore = clock.waits.length;
    await waitFor(() => clock.waits.length >= waitsBefore + 3, { what: 'retries while the manager is away again' });
    await manager.server.start();

    await waitFor(() => manager.statusesOf(task.id).includes('completed'), {
      timeoutMs: 10_000,
      what: 'the queued updates to arrive',
    });
    const log = manager.updates.filter((entry) => entry.taskId === task.id).flatMap((entry) => entry.update.log ?? []);
    assert.ok(log.indexOf('before the outage') < log.indexOf('during the outage'));
    assert.deepEqual(manager.statusesOf(task.id), ['active', 'completed']);
    await waitFor(() => manager.calls('/worker/sign-on').length >= 2, { what: 'signing on again' });
    manager.requested = 'offline';
    assert.equal(await running, 0);
  });
});

describe('worker process', () => {
  it('on SIGTERM requeues the running task, signs off and exits 0', async (t) => {
    const home = await workerHome(t);
    const manager = await startFakeManager(t);
    const task = manager.addTask([{ name: 'exec', parameters: { argv: [node, '-e', 'setInterval(() => {}, 1000)'] } }]);
    const script = `const { runWorker } = await import(${JSON.stringify(`file://${MAIN}`)}); process.exitCode = await runWorker({ home: process.argv[1], managerUrl: process.argv[2], secret: process.argv[3] });`;
    const child = spawn(node, ['--input-type=module', '-e', script, home, manager.url, FARM_SECRET], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, KILN_HOME: home, KILN_SELF_DISCOVERY: 'off' },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    t.after(() => child.kill('SIGKILL'));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

    await waitFor(() => manager.statusesOf(task.id).includes('active'), {
      timeoutMs: 15_000,
      what: 'the task to start',
    });
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    assert.deepEqual(manager.statusesOf(task.id), ['active', 'queued']);
    assert.equal(manager.calls('/worker/sign-off').length, 1);
    // Structured logs on stderr.
    const lines = stderr
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { msg?: string });
    assert.ok(
      lines.some((line) => line.msg === 'signed off'),
      stderr,
    );
  });
});
