import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useFileCluster } from '../testing/cluster.js';
import { startTestManager, ProtocolWorker, type TestManager } from '../testing/farm.js';
import { makeTempDir } from '../testing/temp.js';
import { waitFor } from '../util/time.js';

/** One PostgreSQL for the file; each test gets its own database and manager. */
const fileCluster = useFileCluster({ before, after });

async function submit(m: TestManager, body: Record<string, unknown> = {}): Promise<{ id: string }> {
  const response = await m.api('POST', '/jobs', {
    name: 'echo',
    type: 'echo-sleep',
    settings: { message: 'hi' },
    ...body,
  });
  assert.equal(response.status, 201, JSON.stringify(response.body));
  return response.body;
}
const job = async (m: TestManager, id: string) => (await m.api('GET', `/jobs/${id}`)).body;
const tasksOf = async (m: TestManager, id: string) =>
  (await m.api('GET', `/jobs/${id}/tasks`)).body.tasks as Array<Record<string, any>>;
const task = async (m: TestManager, id: string) => (await m.api('GET', `/tasks/${id}`)).body;
const workers = (m: TestManager, n: number, options = {}) =>
  Promise.all(Array.from({ length: n }, (_, i) => new ProtocolWorker(m, `w${i + 1}`, options).register()));

/**
 * A job type with explicit priorities and a diamond of dependencies, loaded from the
 * manager's job_types_dir as administrators add them.
 */
function writeDiamondType(dir: string): void {
  writeFileSync(
    join(dir, 'diamond.mjs'),
    `export default ({ Type, makeCommand }) => ({
      name: 'diamond', label: 'Diamond', description: 'A fans out to B and C, which fan in to D',
      settingsSchema: Type.Object({}, { additionalProperties: false }),
      compile: () => [
        { name: 'A', type: 'misc', commands: [makeCommand('echo', { message: 'A' })], dependsOn: [] },
        { name: 'B', type: 'misc', priority: 40, commands: [makeCommand('echo', { message: 'B' })], dependsOn: [0] },
        { name: 'C', type: 'misc', priority: 60, commands: [makeCommand('echo', { message: 'C' })], dependsOn: [0] },
        { name: 'D', type: 'misc', commands: [makeCommand('echo', { message: 'D' })], dependsOn: [1, 2] },
      ],
    });\n`,
  );
}

/** Many misc tasks and one video task, none depending on another. */
function writeTwoTypesType(dir: string): void {
  writeFileSync(
    join(dir, 'two-types.mjs'),
    `export default ({ Type, makeCommand }) => ({
      name: 'two-types', label: 'Two task types', description: 'misc tasks and a video task',
      settingsSchema: Type.Object({}, { additionalProperties: false }),
      compile: () => [
        ...Array.from({ length: 20 }, (_, i) => ({ name: 'misc ' + i, type: 'misc', commands: [makeCommand('echo', { message: 'm' })], dependsOn: [] })),
        { name: 'video', type: 'video', priority: 10, commands: [makeCommand('echo', { message: 'v' })], dependsOn: [] },
      ],
    });\n`,
  );
}

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

describe('scheduling', () => {
  it('orders by job priority, then task priority, then age; and respects fan-out and fan-in', async (t) => {
    const dir = makeTempDir(t);
    writeDiamondType(dir);
    const m = await startTestManager(t, fileCluster(), { job_types_dir: dir });
    const [w] = await workers(m, 1);
    const low = await submit(m, { name: 'low', priority: 10 });
    const diamond = await submit(m, { name: 'diamond', type: 'diamond', settings: {}, priority: 70 });
    const younger = await submit(m, { name: 'younger', priority: 70, frames: '1-2', chunkSize: 1 });
    const high = await submit(m, { name: 'high', priority: 90 });
    const order: string[] = [];
    for (;;) {
      const got = await w!.next(1000);
      if (!got) break;
      order.push(
        got.jobId === diamond.id
          ? got.name
          : got.jobId === high.id
            ? 'high'
            : got.jobId === younger.id
              ? 'younger'
              : got.jobId === low.id
                ? 'low'
                : '?',
      );
      await w!.complete(got.id);
    }
    // high (job priority 90) first. Among the priority-70 jobs task priority outranks age: the
    // diamond's A (50) before the younger job's equal tasks (age), then C (60) before them, then
    // the younger job's two (50) before B (40); D (50) once B and C are done; low (10) last.
    assert.deepEqual(order, ['high', 'A', 'C', 'younger', 'younger', 'B', 'D', 'low']);
  });

  it('dependencies hold tasks back until they complete, across workers', async (t) => {
    const dir = makeTempDir(t);
    writeDiamondType(dir);
    const m = await startTestManager(t, fileCluster(), { job_types_dir: dir });
    const [w1, w2, w3] = await workers(m, 3);
    await submit(m, { name: 'diamond', type: 'diamond', settings: {} });
    const a = (await w1!.next())!;
    assert.equal(a.name, 'A');
    assert.equal(await w2!.next(300), undefined, 'B and C wait for A');
    await w1!.complete(a.id);
    const [c, b] = [(await w2!.next())!, (await w3!.next())!];
    assert.deepEqual([c.name, b.name], ['C', 'B']);
    await w2!.complete(c.id);
    assert.equal(await w1!.next(300), undefined, 'D waits for both B and C');
    await w3!.complete(b.id);
    assert.equal((await w1!.next())!.name, 'D');
  });

  it('a tagged job only goes to workers with that tag', async (t) => {
    const m = await startTestManager(t, fileCluster());
    const [plain] = await workers(m, 1);
    const tagged = await new ProtocolWorker(m, 'gpu-box', { tags: ['gpu'] }).register();
    const { id } = await submit(m, { tag: 'gpu' });
    assert.equal(await plain!.next(300), undefined);
    assert.equal((await tagged.next())!.jobId, id);
  });

  it('task types: a worker only gets the types it supports', async (t) => {
    const m = await startTestManager(t, fileCluster());
    const videoOnly = await new ProtocolWorker(m, 'encoder', { types: ['video'] }).register();
    await submit(m);
    assert.equal(await videoOnly.next(300), undefined);
  });

  it('a worker that holds an active task gets it back; an update from another worker gets 409', async (t) => {
    const m = await startTestManager(t, fileCluster());
    const [w1, w2] = await workers(m, 2);
    await submit(m, { frames: '1-4', chunkSize: 1 });
    const held = (await w1!.next())!;
    assert.equal((await w1!.next())!.id, held.id, 'the same task again');
    const response = await w2!.update(held.id, { status: 'completed' });
    assert.equal(response.status, 409);
    assert.equal(response.body.error.code, 'not_your_task');
    assert.equal((await task(m, held.id)).status, 'active');
  });

  it('an update replayed after an outage (same sequence number) applies once', async (t) => {
    const m = await startTestManager(t, fileCluster());
    const [w] = await workers(m, 1);
    await submit(m);
    const held = (await w!.next())!;
    for (let i = 0; i < 2; i++)
      assert.equal((await w!.update(held.id, { seq: 41, log: ['frame 1 done'] })).status, 204);
    for (let i = 0; i < 2; i++)
      assert.equal((await w!.update(held.id, { seq: 42, status: 'completed', log: ['all done'] })).status, 204);
    const log = (await m.api('GET', `/tasks/${held.id}/log`)).body as string;
    assert.equal(log, 'frame 1 done\nall done\n');
    assert.equal((await task(m, held.id)).status, 'completed');
  });

  it("sign-off requeues the worker's task", async (t) => {
    const m = await startTestManager(t, fileCluster());
    const [w1, w2] = await workers(m, 2);
    await submit(m);
    const held = (await w1!.next())!;
    assert.equal((await w1!.call('POST', '/worker/sign-off')).status, 204);
    assert.equal((await task(m, held.id)).status, 'queued');
    assert.equal((await w2!.next())!.id, held.id);
    assert.equal((await m.api('GET', `/workers/${w1!.id}`)).body.status, 'offline');
  });
});

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

describe('timeouts', () => {
  it('a task unseen past task_timeout fails, with a note in its log', async (t) => {
    const m = await startTestManager(t, fileCluster(), { task_timeout: 0.5, timeout_check_interval: 0.2 });
    // Two workers: with one, nobody would be left to retry it and it would fail outright.
    const [w, busy] = await workers(m, 2);
    await submit(m, { frames: '1-20', chunkSize: 1 });
    const held = (await w!.next())!;
    // A task that keeps reporting progress is not timed out, however long it runs.
    const reported = (await busy!.next())!;
    let reporting = true;
    const reporter = (async () => {
      for (let p = 0.01; reporting; p += 0.01) {
        await busy!.update(reported.id, { progress: Math.min(p, 0.99) });
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    const row = await waitFor(
      async () => {
        const current = await task(m, held.id);
        return current.status !== 'active' && current;
      },
      { what: 'the task to time out' },
    );
    assert.equal(row.status, 'soft-failed');
    assert.deepEqual(row.failedByWorkers, [w!.id]);
    const log = await m.api('GET', `/tasks/${held.id}/log`);
    assert.match(log.body, /timed out/);
    await new Promise((resolve) => setTimeout(resolve, 600));
    const alive = await task(m, reported.id);
    reporting = false;
    await reporter;
    assert.deepEqual([alive.status, alive.workerId], ['active', busy!.id], 'the reporting task outlived task_timeout');
  });

  it('a worker unseen past worker_timeout goes to error and its task is requeued', async (t) => {
    const m = await startTestManager(t, fileCluster(), { worker_timeout: 0.5, timeout_check_interval: 0.2 });
    const [w] = await workers(m, 1);
    // It runs only video tasks, so it never takes the requeued one.
    const polling = await new ProtocolWorker(m, 'poller', { types: ['video'] }).register();
    await submit(m);
    const held = (await w!.next())!;
    // A worker that keeps asking for work (nothing is left for it) counts as seen.
    let asking = true;
    const asker = (async () => {
      while (asking) await polling.next(200);
    })();
    await waitFor(async () => (await m.api('GET', `/workers/${w!.id}`)).body.status === 'error', {
      what: 'the worker to time out',
    });
    const row = await task(m, held.id);
    assert.equal(row.status, 'queued');
    assert.equal(row.workerId, null);
    await new Promise((resolve) => setTimeout(resolve, 600));
    const poller = (await m.api('GET', `/workers/${polling.id}`)).body;
    asking = false;
    await asker;
    assert.equal(poller.status, 'awake', 'the polling worker outlived worker_timeout');
  });
});
