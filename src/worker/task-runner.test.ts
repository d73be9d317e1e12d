import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { AssignedTask, MayKeepRunning, TaskUpdate } from '../client/types.js';
import { ApiError } from '../client/errors.js';
import { waitFor } from '../util/time.js';
import { runTask, type TaskRunnerDeps } from './task-runner.js';

const TASK_ID = '33333333-3333-4333-8333-333333333333';

/** Records what the runner reports, in order, as the manager would see it. */
class RecordingQueue {
  readonly updates: Array<Omit<TaskUpdate, 'seq'>> = [];
  readonly logs: string[] = [];
  readonly progressValues: number[] = [];
  readonly #drop = new Map<string, () => void>();
  send(_taskId: string, update: Omit<TaskUpdate, 'seq'>): Promise<void> {
    this.updates.push(update);
    this.logs.push(...(update.log ?? []));
    return Promise.resolve();
  }
  log(_taskId: string, ...lines: string[]): void {
    this.logs.push(...lines);
  }
  progress(_taskId: string, value: number): void {
    this.progressValues.push(value);
  }
  activity(): void {}
  flush(): Promise<void> {
    return Promise.resolve();
  }
  beginTask(): void {}
  watchDrop(taskId: string, listener: () => void): () => void {
    this.#drop.set(taskId, listener);
    return () => this.#drop.delete(taskId);
  }
  drop(taskId: string): void {
    this.#drop.get(taskId)?.();
  }
  get statuses(): string[] {
    return this.updates.flatMap((update) => (update.status ? [update.status] : []));
  }
}

function task(commands: Array<{ name: string; parameters: Record<string, unknown> }>): AssignedTask {
  return {
    id: TASK_ID,
    jobId: TASK_ID,
    jobName: 'job',
    jobType: 'echo-sleep',
    name: 'task 1',
    type: 'misc',
    priority: 50,
    commands,
  };
}

function deps(
  queue: RecordingQueue,
  mayIRun: () => Promise<MayKeepRunning> = async () => ({ mayKeepRunning: true, reason: '', statusRequested: null }),
): TaskRunnerDeps {
  return {
    queue,
    mayIRun,
    uploadPreview: async () => undefined,
    logger: pino({ level: 'silent' }),
    workerName: 'test-worker',
    tools: {},
    killGraceMs: 500,
    mayIRunIntervalMs: 100,
    processGroups: { track: () => () => undefined },
  };
}

const node = process.execPath;

describe('runTask', () => {
  it('runs the commands in order: active, progress, completed', async () => {
    const queue = new RecordingQueue();
    const outcome = await runTask(
      task([
        { name: 'echo', parameters: { message: 'hello farm' } },
        { name: 'exec', parameters: { argv: [node, '-e', 'console.log("from exec")'] } },
        { name: 'sleep', parameters: { seconds: 0.1 } },
      ]),
      deps(queue),
      new AbortController().signal,
    );
    assert.deepEqual(outcome, { result: 'completed' });
    assert.deepEqual(queue.statuses, ['active', 'completed']);
    assert.ok(queue.logs.indexOf('hello farm') < queue.logs.indexOf('from exec'));
    assert.ok(queue.logs.some((line) => line.includes('command 3/3: sleep')));
    assert.deepEqual(
      queue.progressValues,
      [...queue.progressValues].sort((a, b) => a - b),
      'progress over the whole task only grows',
    );
    assert.ok(queue.progressValues.includes(1 / 3), 'the first of three commands done is a third');
    assert.equal(queue.updates.at(-1)?.progress, 1);
  });

  it('fails at the first failing command with its message, skipping the rest', async () => {
    const queue = new RecordingQueue();
    const outcome = await runTask(
      task([
        { name: 'exec', parameters: { argv: [node, '-e', 'console.error("disk full"); process.exit(4)'] } },
        { name: 'echo', parameters: { message: 'never' } },
      ]),
      deps(queue),
      new AbortController().signal,
    );
    assert.equal(outcome.result, 'failed');
    assert.deepEqual(queue.statuses, ['active', 'failed']);
    const failed = queue.updates.at(-1);
    assert.match(failed?.activity ?? '', /exec: .* exited with code 4/);
    assert.ok(
      queue.logs.some((line) => /^command exec: .*exited with code 4/.test(line)),
      queue.logs.join('\n'),
    );
    assert.ok(queue.logs.includes('disk full'));
    assert.ok(!queue.logs.includes('never'));
  });

  it('fails a command it cannot understand instead of running it', async () => {
    const queue = new RecordingQueue();
    const outcome = await runTask(
      task([
        { name: 'echo', parameters: { message: 'x', colour: 'red' } },
        { name: 'teleport', parameters: {} },
      ]),
      deps(queue),
      new AbortController().signal,
    );
    assert.equal(outcome.result, 'failed');
    assert.match(outcome.result === 'failed' ? outcome.message : '', /invalid echo command/);
    const unknown = await runTask(
      task([{ name: 'teleport', parameters: {} }]),
      deps(new RecordingQueue()),
      new AbortController().signal,
    );
    assert.match(unknown.result === 'failed' ? unknown.message : '', /unknown command "teleport"/);
  });

  it('stops within 2 s when the manager says no, and reports no failure', async () => {
    const queue = new RecordingQueue();
    let allowed = true;
    let toldNoAt = 0;
    const running = runTask(
      task([
        { name: 'exec', parameters: { argv: [node, '-e', 'console.log("working"); setInterval(() => {}, 1000)'] } },
      ]),
      deps(queue, async () => {
        if (!allowed && toldNoAt === 0) toldNoAt = Date.now();
        return { mayKeepRunning: allowed, reason: allowed ? '' : 'job canceled', statusRequested: null };
      }),
      new AbortController().signal,
    );
    await waitFor(() => queue.logs.includes('working'), { what: 'the command to start' });
    allowed = false;
    const outcome = await running;
    assert.ok(toldNoAt > 0);
    assert.ok(Date.now() - toldNoAt < 2000, `stopped ${Date.now() - toldNoAt} ms after the answer`);
    assert.deepEqual(outcome, { result: 'stopped', reason: 'the manager stopped this task: job canceled' });
    assert.deepEqual(queue.statuses, ['active'], 'neither failed nor completed');
  });

  it('stops when the task is another worker’s (409 from may-i-run or from an update)', async () => {
    const fromPoll = new RecordingQueue();
    const outcome = await runTask(
      task([{ name: 'sleep', parameters: { seconds: 30 } }]),
      deps(fromPoll, async () => {
        throw new ApiError({ status: 409, code: 'not_your_task', message: 'taken', method: 'GET', url: 'x' });
      }),
      new AbortController().signal,
    );
    assert.equal(outcome.result, 'stopped');
    assert.deepEqual(fromPoll.statuses, ['active']);

    const fromQueue = new RecordingQueue();
    const running = runTask(
      task([{ name: 'sleep', parameters: { seconds: 30 } }]),
      deps(fromQueue),
      new AbortController().signal,
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    fromQueue.drop(TASK_ID);
    assert.equal((await running).result, 'stopped');
    assert.deepEqual(fromQueue.statuses, ['active']);
  });

  it('sends the task back as queued when the worker shuts down', async () => {
    const queue = new RecordingQueue();
    const shutdown = new AbortController();
    const running = runTask(
      task([
        { name: 'sleep', parameters: { seconds: 30 } },
        { name: 'echo', parameters: { message: 'never' } },
      ]),
      deps(queue),
      shutdown.signal,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    shutdown.abort(new Error('received SIGTERM'));
    assert.deepEqual(await running, { result: 'requeued' });
    assert.ok(Date.now() - started < 2000);
    assert.deepEqual(queue.statuses, ['active', 'queued']);
    assert.ok(!queue.logs.includes('never'));
  });
});
