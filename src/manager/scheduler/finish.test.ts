import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useFileCluster } from '../../testing/cluster.js';
import { startTestManager, type ProtocolWorker } from '../../testing/farm.js';
import { job, submit, task, workers } from '../../testing/farm-jobs.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** One PostgreSQL for the file; each test gets its own database and manager. */
const fileCluster = useFileCluster({ before, after });

/** POST /worker/tasks/:id/finish: the last update, then the long poll. */
const finish = (w: ProtocolWorker, taskId: string, update: Record<string, unknown>, waitMs = 5000) =>
  w.call('POST', `/worker/tasks/${taskId}/finish?waitMs=${waitMs}`, update);

describe('finishing a task and asking for the next in one request', () => {
  it('completes the task and answers with the next; 204 when none comes; 409 changes nothing', async (t) => {
    const m = await startTestManager(t, fileCluster());
    const [w1, w2] = await workers(m, 2);
    await submit(m, { frames: '1-2', chunkSize: 1 });
    const first = (await w1!.next())!;
    const answer = await finish(w1!, first.id, { status: 'completed', log: ['done'] });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal((await task(m, first.id)).status, 'completed');
    const second = answer.body;
    assert.notEqual(second.id, first.id);
    assert.equal((await task(m, second.id)).status, 'active');
    // Another worker's task: refused, nothing applied, and no task was asked for.
    const refused = await finish(w2!, second.id, { status: 'completed' });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error.code, 'not_your_task');
    assert.equal((await task(m, second.id)).status, 'active');
    const last = await finish(w1!, second.id, { status: 'completed' }, 200);
    assert.equal(last.status, 204);
    assert.equal((await task(m, second.id)).status, 'completed');
    assert.equal((await m.api('GET', `/jobs/${second.jobId}`)).body.status, 'completed');
    const malformed = await finish(w1!, second.id, { status: 'active' });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.error.field, 'status');
  });

  it('twenty workers finishing and asking at once: every task runs exactly once', async (t) => {
    const m = await startTestManager(t, fileCluster());
    const crew = await workers(m, 20);
    const { id: jobId } = await submit(m, { frames: '1-300', chunkSize: 1 });
    const seen: string[] = [];
    await Promise.all(
      crew.map(async (w) => {
        // A wait that ends empty on a slow machine is no end: ask again until all 300 went out.
        while (seen.length < 300) {
          let held = await w.next(300);
          while (held) {
            seen.push(held.id);
            const answer = await finish(w, held.id, { status: 'completed' }, 300);
            assert.ok(answer.status === 200 || answer.status === 204, JSON.stringify(answer.body));
            held = answer.status === 200 ? answer.body : undefined;
          }
        }
      }),
    );
    assert.equal(seen.length, 300);
    assert.equal(new Set(seen).size, 300, 'a task was handed out twice');
    const job = (await m.api('GET', `/jobs/${jobId}`)).body;
    assert.equal(job.status, 'completed');
    assert.equal(job.taskCounts.completed, 300);
    assert.equal(job.taskCounts.active, 0);
  });

  it('a task a worker failed goes to another worker, and that worker gets the next task instead', async (t) => {
    const m = await startTestManager(t, fileCluster());
    const [w1, w2] = await workers(m, 2);
    await submit(m, { frames: '1-2', chunkSize: 1 });
    const first = (await w1!.next())!;
    // Failed by w1 and requeued ahead of the second task (lower index); w1's next must skip it.
    const answer = await finish(w1!, first.id, { status: 'failed' });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.notEqual(answer.body.id, first.id);
    assert.equal((await w2!.next())!.id, first.id);
  });

  it('applies the report at once, though no task is ready for the worker, and in one batch with others', async (t) => {
    const m = await startTestManager(t, fileCluster());
    const [w1, w2] = await workers(m, 2);
    const first = await submit(m, { frames: '1-2', chunkSize: 1 });
    const a = (await w1!.next())!;
    const b = (await w2!.next())!;
    // w1 finishes and waits long: nothing is ready, so only new work can end its wait.
    let answered = false;
    const waiting = finish(w1!, a.id, { status: 'completed', log: ['a done'] }, 60_000).then((answer) => {
      answered = true;
      return answer;
    });
    while ((await task(m, a.id)).status !== 'completed') await sleep(20);
    assert.equal(answered, false, 'the report was applied by the round, while the worker still waits');
    // The job's last task: its job completes (the report cannot be applied in one statement then).
    const last = await finish(w2!, b.id, { status: 'completed' }, 100);
    assert.equal(last.status, 204);
    assert.equal((await m.api('GET', `/jobs/${first.id}`)).body.status, 'completed');
    const second = await submit(m, { frames: '1-1', chunkSize: 1 });
    const answer = await waiting;
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.jobId, second.id);
    assert.match(String((await m.api('GET', `/tasks/${a.id}/log`)).body), /a done/);
  });

  it('a worker asked to sleep: its completion is applied first, then it hears of the sleep', async (t) => {
    const m = await startTestManager(t, fileCluster());
    const [w1] = await workers(m, 1);
    await submit(m, { frames: '1-3', chunkSize: 1 });
    const a = (await w1!.next())!;
    const asked = await m.api('POST', `/workers/${w1!.id}/status`, { action: 'sleep', when: 'after-task' });
    assert.equal(asked.status, 200, JSON.stringify(asked.body));
    const answer = await finish(w1!, a.id, { status: 'completed' });
    assert.equal(answer.status, 423, JSON.stringify(answer.body));
    assert.equal(answer.body.statusRequested, 'asleep');
    assert.equal((await task(m, a.id)).status, 'completed');
  });

  it('a replayed completion (the same sequence number again) is acknowledged and changes nothing', async (t) => {
    const m = await startTestManager(t, fileCluster());
    const [w1] = await workers(m, 1);
    const { id: jobId } = await submit(m, { frames: '1-3', chunkSize: 1 });
    const a = (await w1!.next())!;
    const answer = await finish(w1!, a.id, { status: 'completed', seq: 7 });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const replay = await w1!.call('POST', `/worker/tasks/${a.id}/update`, { status: 'completed', seq: 7 });
    assert.equal(replay.status, 204, JSON.stringify(replay.body));
    const counts = (await m.api('GET', `/jobs/${jobId}`)).body.taskCounts;
    assert.deepEqual([counts.completed, counts.active, counts.queued], [1, 1, 1]);
  });

  it("one statement completes a job's task and starts another job; the counters of both follow", async (t) => {
    const m = await startTestManager(t, fileCluster());
    const [w1] = await workers(m, 1);
    const first = await submit(m, { name: 'first', frames: '1-2', chunkSize: 1 });
    const a = (await w1!.next())!;
    // Submitted while w1 works: queued, and ahead of the first job's second task.
    const urgent = await submit(m, { name: 'urgent', priority: 90, frames: '1-2', chunkSize: 1 });
    assert.equal((await job(m, urgent.id)).status, 'queued');
    const answer = await finish(w1!, a.id, { status: 'completed', seq: 1 });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.jobId, urgent.id);
    const [before, after] = [await job(m, first.id), await job(m, urgent.id)];
    assert.equal(before.status, 'active');
    assert.deepEqual([before.taskCounts.completed, before.taskCounts.active, before.taskCounts.queued], [1, 0, 1]);
    assert.equal(after.status, 'active');
    assert.deepEqual([after.taskCounts.completed, after.taskCounts.active, after.taskCounts.queued], [0, 1, 1]);
  });

  it('the completion applies, and the careful pick follows when the next task excludes the worker', async (t) => {
    const m = await startTestManager(t, fileCluster());
    const [w1, w2] = await workers(m, 2);
    const { id: jobId } = await submit(m, { frames: '1-3', chunkSize: 1 });
    const a = (await w1!.next())!;
    const failed = await finish(w1!, a.id, { status: 'failed' });
    assert.equal(failed.status, 200, JSON.stringify(failed.body));
    const b = failed.body;
    // a is runnable again and first in line, but w1 failed it: the one-statement pick stands back
    // (its completion applies all the same), and the pick with per-worker rules hands w1 the third.
    const answer = await finish(w1!, b.id, { status: 'completed' });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.notEqual(answer.body.id, a.id);
    assert.equal((await task(m, b.id)).status, 'completed');
    assert.equal((await w2!.next())!.id, a.id);
    const counts = (await job(m, jobId)).taskCounts;
    assert.deepEqual([counts.completed, counts.active, counts.queued, counts['soft-failed']], [1, 2, 0, 0]);
  });
});
