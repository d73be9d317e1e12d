import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useFileCluster } from '../../testing/cluster.js';
import { startTestManager } from '../../testing/farm.js';
import { submit, job, task, workers } from '../../testing/farm-jobs.js';

/** One PostgreSQL for the file; each test gets its own database and manager. */
const fileCluster = useFileCluster({ before, after });

describe('job control', () => {
  it('requeue requeues only unfinished tasks, all of them once completed, and clears the blocklist', async (t) => {
    const m = await startTestManager(t, fileCluster());
    const [w, other] = await workers(m, 2);
    const { id } = await submit(m, { frames: '1-40', chunkSize: 1 });
    const done = (await w!.next())!;
    await w!.complete(done.id);
    for (let i = 0; i < 3; i++) await w!.fail((await w!.next())!.id);
    assert.equal(await w!.next(300), undefined, 'blocklisted');
    const canceled = await m.api('POST', `/jobs/${id}/status`, { action: 'cancel' });
    assert.equal(canceled.body.status, 'canceled');
    const requeued = await m.api('POST', `/jobs/${id}/status`, { action: 'requeue' });
    assert.equal(requeued.status, 200, JSON.stringify(requeued.body));
    assert.equal((await task(m, done.id)).status, 'completed', 'a finished task stays finished');
    assert.equal(requeued.body.taskCounts.queued, 39);
    assert.ok(await w!.next(), 'blocklist cleared');
    // Complete everything, then requeue: all tasks run again.
    for (;;) {
      const got = (await other!.next(1000)) ?? (await w!.next(1000));
      if (!got) break;
      await (got.jobId === id ? ((await task(m, got.id)).workerId === w!.id ? w! : other!) : other!).complete(got.id);
    }
    assert.equal((await job(m, id)).status, 'completed');
    const again = await m.api('POST', `/jobs/${id}/status`, { action: 'requeue' });
    assert.equal(again.body.taskCounts.queued, 40);
  });

  it('pause lets running tasks finish: pause-requested until they end, then paused; resume runs the rest', async (t) => {
    const m = await startTestManager(t, fileCluster());
    const [w, idle] = await workers(m, 2);
    const { id } = await submit(m, { frames: '1-4', chunkSize: 1 });
    const running = (await w!.next())!;
    const paused = await m.api('POST', `/jobs/${id}/status`, { action: 'pause' });
    assert.equal(paused.body.status, 'pause-requested');
    const answer = await w!.call('GET', `/worker/tasks/${running.id}/may-i-run`);
    assert.equal(answer.body.mayKeepRunning, true, 'the running task may finish');
    assert.equal((await job(m, id)).status, 'pause-requested');
    assert.equal(await idle!.next(300), undefined, 'no new task of a pausing job');
    await w!.complete(running.id);
    const after = await job(m, id);
    assert.equal(after.status, 'paused');
    assert.deepEqual([after.taskCounts.completed, after.taskCounts.paused], [1, 3]);
    assert.equal(await w!.next(300), undefined);
    const resumed = await m.api('POST', `/jobs/${id}/status`, { action: 'resume' });
    assert.equal(resumed.body.status, 'active', 'queued again, and active since a task completed');
    assert.ok(await w!.next());
  });

  it('pause with "now" stops running tasks at once', async (t) => {
    const m = await startTestManager(t, fileCluster());
    const [w] = await workers(m, 1);
    const { id } = await submit(m, { frames: '1-4', chunkSize: 1 });
    const running = (await w!.next())!;
    const paused = await m.api('POST', `/jobs/${id}/status`, { action: 'pause', now: true });
    assert.equal(paused.body.status, 'paused');
    assert.equal(paused.body.taskCounts.paused, 4);
    const answer = await w!.call('GET', `/worker/tasks/${running.id}/may-i-run`);
    assert.equal(answer.body.mayKeepRunning, false);
    assert.equal(
      (await w!.update(running.id, { status: 'completed' })).status,
      409,
      "the stopped task is no longer the worker's",
    );
    const resumed = await m.api('POST', `/jobs/${id}/status`, { action: 'resume' });
    assert.equal(resumed.body.status, 'queued');
    assert.equal((await w!.next())!.id, running.id, 'the stopped task runs again first');
  });
});
