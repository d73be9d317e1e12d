import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useFileCluster } from '../../testing/cluster.js';
import { startTestManager } from '../../testing/farm.js';
import { submit, job, tasksOf, task, workers, writeTwoTypesType } from '../../testing/farm-jobs.js';
import { makeTempDir } from '../../testing/temp.js';

/** One PostgreSQL for the file; each test gets its own database and manager. */
const fileCluster = useFileCluster({ before, after });

describe('failure policy', () => {
  it('a first failure soft-fails the task, and it goes to another worker, never back to the one that failed it', async (t) => {
    const m = await startTestManager(t, fileCluster());
    const [w1, w2] = await workers(m, 2);
    const { id } = await submit(m, { frames: '1-20', chunkSize: 1 });
    const first = (await w1!.next())!;
    await w1!.fail(first.id);
    assert.equal((await task(m, first.id)).status, 'soft-failed');
    // w1 gets the other 19 tasks but never the one it failed.
    const seen = new Set<string>();
    for (let i = 0; i < 19; i++) {
      const next = (await w1!.next())!;
      assert.notEqual(next.id, first.id);
      seen.add(next.id);
      await w1!.complete(next.id);
    }
    assert.equal(await w1!.next(300), undefined, 'w1 is offered nothing more');
    const retried = (await w2!.next())!;
    assert.equal(retried.id, first.id);
    await w2!.complete(retried.id);
    assert.equal((await job(m, id)).status, 'completed');
  });

  it('after 3 distinct workers fail a task it is failed', async (t) => {
    const m = await startTestManager(t, fileCluster(), {
      failure: { max_workers_per_task: 3, blocklist_threshold: 3, job_fail_share: 0.5 },
    });
    const ws = await workers(m, 4);
    const { id } = await submit(m, { frames: '1-4', chunkSize: 1 });
    const target = (await tasksOf(m, id))[0]!;
    for (const [n, w] of ws.slice(0, 3).entries()) {
      const got = (await w.next())!;
      assert.equal(got.id, target.id, `worker ${n + 1} gets the oldest task`);
      await w.fail(got.id);
      assert.equal((await task(m, target.id)).status, n < 2 ? 'soft-failed' : 'failed');
    }
    assert.deepEqual(new Set((await task(m, target.id)).failedByWorkers), new Set(ws.slice(0, 3).map((w) => w.id)));
    assert.notEqual((await ws[3]!.next())!.id, target.id, 'a failed task is not handed out');
  });

  it('a task that every capable worker has failed is failed, even on a farm smaller than N', async (t) => {
    const m = await startTestManager(t, fileCluster());
    const [w1, w2] = await workers(m, 2);
    const [other] = await workers(m, 1, { types: ['video'] });
    const { id } = await submit(m, { frames: '1', chunkSize: 1 });
    const only = (await w1!.next())!;
    await w1!.fail(only.id);
    assert.equal((await task(m, only.id)).status, 'soft-failed', 'w2 may still try it');
    assert.equal(await other!.next(200), undefined, 'a worker of another type is not capable');
    assert.equal((await w2!.next())!.id, only.id);
    await w2!.fail(only.id);
    const row = await task(m, only.id);
    assert.equal(row.status, 'failed');
    assert.match(row.activity, /no other capable worker is left to try it \(2 failed it\)/);
    assert.equal((await job(m, id)).status, 'failed', 'a task nobody is left to run fails its job');
  });

  it('a worker failing 3 tasks of one type in a job is blocklisted for it, and those tasks requeue', async (t) => {
    const dir = makeTempDir(t);
    writeTwoTypesType(dir);
    const m = await startTestManager(t, fileCluster(), { job_types_dir: dir });
    const [bad, good] = await workers(m, 2);
    const { id } = await submit(m, { name: 'mixed', type: 'two-types', settings: {} });
    const failed: string[] = [];
    for (let i = 0; i < 3; i++) {
      const got = (await bad!.next())!;
      failed.push(got.id);
      await bad!.fail(got.id);
    }
    for (const taskId of failed) {
      const row = await task(m, taskId);
      assert.equal(row.status, 'queued', 'requeued for others');
      assert.deepEqual(row.failedByWorkers, []);
    }
    // The blocklist covers this job's misc tasks only: its video task, and other jobs, still come.
    const video = (await bad!.next())!;
    assert.deepEqual([video.jobId, video.type], [id, 'video'], "the same job's other task type is still offered");
    await bad!.complete(video.id);
    assert.equal(await bad!.next(300), undefined, 'blocklisted: no more misc tasks from this job');
    assert.ok(['queued', 'active'].includes((await job(m, id)).status), 'the job goes on');
    const other = await submit(m, { name: 'other' });
    const fromOther = (await bad!.next())!;
    assert.equal(fromOther.jobId, other.id, 'other jobs are still offered to it');
    const got = (await good!.next())!;
    assert.equal(got.jobId, id);
  });

  it('a task no capable worker is left to run fails its job at once, without running the rest first', async (t) => {
    const m = await startTestManager(t, fileCluster());
    const [only] = await workers(m, 1);
    const { id } = await submit(m, { frames: '1-40', chunkSize: 1 });
    const first = (await only!.next())!;
    await only!.fail(first.id);
    const final = await job(m, id);
    assert.equal(final.status, 'failed');
    assert.match(final.activity, /no worker is left that may run task/);
    assert.equal(final.taskCounts.failed, 1);
    assert.equal(final.taskCounts.canceled, 39, 'the other 39 tasks never ran');
    assert.equal(await only!.next(200), undefined);
    const log = await m.api('GET', `/tasks/${first.id}/log`);
    assert.match(log.body, /\[kiln manager\] .* failed on w1; no other capable worker is left to try it/);
  });

  it('soft failures say in the task log who failed it and how many more workers may try', async (t) => {
    const m = await startTestManager(t, fileCluster());
    const [w1, w2, w3] = await workers(m, 3);
    await submit(m, { frames: '1', chunkSize: 1 });
    const only = (await w1!.next())!;
    await w1!.fail(only.id);
    assert.equal((await w2!.next())!.id, only.id);
    await w2!.fail(only.id);
    assert.equal((await w3!.next())!.id, only.id);
    await w3!.fail(only.id);
    const lines = ((await m.api('GET', `/tasks/${only.id}/log`)).body as string)
      .split('\n')
      .filter((line) => line.startsWith('[kiln manager]'));
    assert.equal(lines.length, 3, lines.join('\n'));
    assert.match(lines[0]!, /failed on w1; 2 more workers may try$/);
    assert.match(lines[1]!, /failed on w2; 1 more worker may try$/);
    assert.match(lines[2]!, /failed on w3; 3 workers failed it, the most the failure policy allows: the task fails$/);
  });

  it("the blocklist is visible, and a worker taken off it gets the job's tasks again", async (t) => {
    const dir = makeTempDir(t);
    writeTwoTypesType(dir);
    const m = await startTestManager(t, fileCluster(), { job_types_dir: dir });
    const [bad, good] = await workers(m, 2);
    const { id } = await submit(m, { name: 'mixed', type: 'two-types', settings: {} });
    for (let i = 0; i < 3; i++) await bad!.fail((await bad!.next())!.id);
    const listed = await m.api('GET', `/jobs/${id}/blocklist`);
    assert.equal(listed.status, 200);
    assert.deepEqual(
      listed.body.blocklist.map((e: any) => [e.workerId, e.workerName, e.taskType]),
      [[bad!.id, 'w1', 'misc']],
    );
    assert.ok(!Number.isNaN(Date.parse(listed.body.blocklist[0].since)));
    // Blocklisted for misc: only the video task is offered.
    const video = (await bad!.next())!;
    assert.equal(video.type, 'video');
    await bad!.complete(video.id);
    assert.equal(await bad!.next(200), undefined);
    const notListed = await m.api('POST', `/jobs/${id}/blocklist/remove`, { workerId: good!.id });
    assert.equal(notListed.status, 400);
    assert.equal(notListed.body.error.field, 'workerId');
    const removed = await m.api('POST', `/jobs/${id}/blocklist/remove`, { workerId: bad!.id, taskType: 'misc' });
    assert.equal(removed.status, 200, JSON.stringify(removed.body));
    assert.deepEqual(removed.body.blocklist, []);
    assert.equal((await bad!.next())!.type, 'misc', 'misc tasks are offered again');
  });

  it('failed tasks reaching 10% fail the job and cancel the rest', async (t) => {
    const m = await startTestManager(t, fileCluster(), {
      failure: { max_workers_per_task: 1, blocklist_threshold: 100, job_fail_share: 0.1 },
    });
    const [w] = await workers(m, 1);
    const { id } = await submit(m, { frames: '1-20', chunkSize: 1 });
    await w!.fail((await w!.next())!.id);
    assert.equal((await job(m, id)).status, 'active', '1 of 20 is 5%');
    const running = (await w!.next())!;
    const [other] = await workers(m, 1);
    const second = (await other!.next())!;
    await other!.fail(second.id);
    const final = await job(m, id);
    assert.equal(final.status, 'failed');
    assert.equal(final.taskCounts.failed, 2);
    assert.equal(final.taskCounts.canceled, 18);
    const answer = await w!.call('GET', `/worker/tasks/${running.id}/may-i-run`);
    assert.equal(answer.body.mayKeepRunning, false);
    assert.equal((await w!.update(running.id, { status: 'completed' })).status, 409);
  });
});
