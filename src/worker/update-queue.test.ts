import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from '../client/api-client.js';
import { sendError, sendJson, startTinyServer, type RecordedRequest, type TinyServer } from '../client/testing.js';
import type { TaskUpdate } from '../client/types.js';
import { waitFor } from '../util/time.js';
import { UpdateQueue } from './update-queue.js';

const TASK_A = '11111111-1111-4111-8111-111111111111';
const TASK_B = '22222222-2222-4222-8222-222222222222';

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-queue-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A stand-in manager that records task updates and answers with `status` (204 by default). */
async function updateServer(
  t: TestContext,
  answer: (request: RecordedRequest) => number = () => 204,
): Promise<TinyServer> {
  return startTinyServer(t, (request, response) => {
    const status = answer(request);
    if (status === 409) return sendError(response, 409, 'not_your_task', 'another worker has this task');
    if (status === 503)
      return sendError(response, 503, 'database_unavailable', 'database down', { headers: { 'retry-after': '0' } });
    sendJson(response, status);
  });
}

function updatesOf(server: TinyServer): Array<{ taskId: string; update: TaskUpdate }> {
  return server.requests
    .filter((request) => request.path.endsWith('/update'))
    .map((request) => ({ taskId: request.path.split('/').at(-2) ?? '', update: request.json as TaskUpdate }));
}

async function openQueue(
  t: TestContext,
  dir: string,
  server: TinyServer,
  extra: { flushIntervalMs?: number } = {},
): Promise<UpdateQueue> {
  const client = new ApiClient({ baseUrl: server.url, worker: { id: 'w', token: 't' }, timeoutMs: 2000 });
  const queue = await UpdateQueue.open({
    dir,
    send: (taskId, update, signal) => client.updateTask(taskId, update, { signal }),
    retryMinDelayMs: 20,
    retryMaxDelayMs: 100,
    flushIntervalMs: extra.flushIntervalMs ?? 50,
  });
  t.after(() => queue.close());
  return queue;
}

describe('UpdateQueue', () => {
  it('batches progress and log lines, sends 100 lines at once, and a status after what was pending', async (t) => {
    const dir = await tempDir(t);
    const server = await updateServer(t);
    // A long interval, so that a batch sent well before it is plainly not waiting for it.
    const queue = await openQueue(t, dir, server, { flushIntervalMs: 1500 });

    queue.progress(TASK_A, 0.1, 'frame 1');
    queue.log(TASK_A, 'line 1', 'line 2');
    queue.progress(TASK_A, 0.2, 'frame 2');
    await waitFor(() => updatesOf(server).length === 1, { timeoutMs: 5000, what: 'one batched update' });
    assert.deepEqual(updatesOf(server)[0]?.update, {
      log: ['line 1', 'line 2'],
      progress: 0.2,
      activity: 'frame 2',
      seq: 1,
    });

    const hundred = Array.from({ length: 100 }, (_, index) => `l${index}`);
    const started = Date.now();
    queue.log(TASK_A, ...hundred);
    await waitFor(() => updatesOf(server).length === 2, { timeoutMs: 2000, what: 'the 100-line batch' });
    assert.ok(Date.now() - started < 1000, 'a full batch does not wait for the interval');

    queue.log(TASK_A, 'last words');
    await queue.send(TASK_A, { status: 'completed', progress: 1 });
    const last = updatesOf(server)[2]?.update;
    assert.deepEqual(last, { status: 'completed', progress: 1, log: ['last words'], seq: 3 });
    assert.equal(queue.backlog, 0);
  });

  it('shows NUL bytes from a program as ␀, which the manager can store', async (t) => {
    const server = await updateServer(t);
    const queue = await openQueue(t, await tempDir(t), server);
    queue.log(TASK_A, 'bin\u0000ary');
    await queue.send(TASK_A, { status: 'failed', activity: 'exit\u0000' });
    assert.deepEqual(updatesOf(server)[0]?.update, {
      status: 'failed',
      activity: 'exit\u2400',
      log: ['bin\u2400ary'],
      seq: 1,
    });
  });

  it('keeps updates on disk while the manager is down, across a restart, and replays them in order', async (t) => {
    const dir = await tempDir(t);
    const server = await updateServer(t);
    await server.stop();

    const first = await openQueue(t, dir, server);
    await first.send(TASK_A, { status: 'active', activity: 'starting' });
    first.log(TASK_A, 'rendering frame 1');
    first.progress(TASK_A, 0.5);
    await first.flush();
    await first.send(TASK_A, { status: 'completed', progress: 1, log: ['done'] });
    await first.send(TASK_B, { status: 'active' });
    await waitFor(() => !first.online, { what: 'the queue to notice the manager is away' });
    const journal = join(dir, 'journal.jsonl');
    assert.ok(existsSync(journal), 'updates are kept in a journal file');
    const lines = readFileSync(journal, 'utf8').trim().split('\n');
    assert.equal(lines.length, 4);
    await first.close();

    // A new worker process: the same folder, the manager still away.
    const second = await openQueue(t, dir, server);
    assert.equal(second.backlog, 4);
    await second.send(TASK_B, { status: 'completed', progress: 1 });
    assert.equal(second.backlog, 5);
    assert.equal(updatesOf(server).length, 0);

    await server.start();
    second.kick();
    assert.equal(await second.drain({ timeoutMs: 5000 }), true);
    const delivered = updatesOf(server);
    assert.deepEqual(
      delivered.map(({ taskId, update }) => [
        taskId === TASK_A ? 'A' : 'B',
        update.status ?? null,
        update.log ?? null,
        update.progress ?? null,
      ]),
      [
        ['A', 'active', null, null],
        ['A', null, ['rendering frame 1'], 0.5],
        ['A', 'completed', ['done'], 1],
        ['B', 'active', null, null],
        ['B', 'completed', null, 1],
      ],
    );
    const seqs = delivered.map(({ update }) => update.seq ?? -1);
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => a - b),
      'sequence numbers only grow, across the restart too',
    );
    assert.equal(new Set(seqs).size, seqs.length);
    assert.ok(!existsSync(journal), 'the journal is removed once delivered');
    assert.ok(second.online);

    // Sending directly again.
    await second.send(TASK_B, { log: ['after'] });
    assert.equal(updatesOf(server).length, 6);
  });

  it('stores updates while the manager answers 503 and sends them in order when it recovers', async (t) => {
    const dir = await tempDir(t);
    let down = true;
    const server = await updateServer(t, () => (down ? 503 : 204));
    const queue = await openQueue(t, dir, server);
    for (let index = 0; index < 5; index++) await queue.send(TASK_A, { progress: index / 10, log: [`step ${index}`] });
    await waitFor(() => !queue.online, { what: 'offline mode' });
    assert.ok(existsSync(join(dir, 'journal.jsonl')));
    down = false;
    assert.equal(await queue.drain({ timeoutMs: 5000 }), true);
    const accepted = server.requests
      .filter((request, index) => index > 0 && (request.json as TaskUpdate).log)
      .map((request) => (request.json as TaskUpdate).log?.[0]);
    // The first 503 answers were retried; what was accepted last came in order.
    assert.deepEqual(accepted.slice(-5), ['step 0', 'step 1', 'step 2', 'step 3', 'step 4']);
  });

  it('drops a task’s queued updates on 409 and tells its watcher, keeping the other tasks’', async (t) => {
    const dir = await tempDir(t);
    const server = await updateServer(t, (request) => (request.path.includes(TASK_A) ? 409 : 204));
    await server.stop();
    const queue = await openQueue(t, dir, server);
    let dropped = 0;
    queue.watchDrop(TASK_A, () => dropped++);
    await queue.send(TASK_A, { status: 'active' });
    await queue.send(TASK_B, { status: 'active' });
    await queue.send(TASK_A, { progress: 0.5 });
    await queue.send(TASK_A, { status: 'completed' });
    await queue.send(TASK_B, { status: 'completed' });
    await server.start();
    queue.kick();
    assert.equal(await queue.drain({ timeoutMs: 5000 }), true);

    const sent = updatesOf(server);
    assert.equal(
      sent.filter(({ taskId }) => taskId === TASK_A).length,
      1,
      'only the first update of A is tried; the rest are dropped',
    );
    assert.deepEqual(
      sent.filter(({ taskId }) => taskId === TASK_B).map(({ update }) => update.status),
      ['active', 'completed'],
    );
    assert.equal(dropped, 1);
    assert.ok(queue.isDropped(TASK_A));
    queue.log(TASK_A, 'ignored');
    await queue.send(TASK_A, { status: 'failed' });
    assert.equal(updatesOf(server).length, sent.length);
  });
});
