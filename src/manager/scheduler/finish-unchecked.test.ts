import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useFileCluster } from '../../testing/cluster.js';
import {
  createTestDatabase,
  ProtocolWorker,
  startTestManager,
  type ProtocolWorker as Worker,
} from '../../testing/farm.js';
import { job, submit, task } from '../../testing/farm-jobs.js';

/**
 * A worker's second and later completions skip the lookup of its row; the round that serves one
 * confirms the worker in its own statement. These tests change the worker through ANOTHER manager
 * of the farm between two completions, so the manager serving the worker holds a stale row.
 */
const fileCluster = useFileCluster({ before, after });

const finish = (w: Worker, taskId: string, update: Record<string, unknown>, waitMs = 5000) =>
  w.call('POST', `/worker/tasks/${taskId}/finish?waitMs=${waitMs}`, update);

async function twoManagers(t: Parameters<typeof startTestManager>[0]) {
  const databaseUrl = await createTestDatabase(fileCluster());
  const serving = await startTestManager(t, fileCluster(), {}, { databaseUrl });
  const other = await startTestManager(t, fileCluster(), {}, { databaseUrl });
  return { serving, other };
}

describe('completions that skip the lookup of their worker', () => {
  it('a sleep asked through another manager: the completion applies, then the worker hears of the sleep', async (t) => {
    const { serving, other } = await twoManagers(t);
    const w1 = await new ProtocolWorker(serving, 'w1').register();
    const { id: jobId } = await submit(serving, { frames: '1-4', chunkSize: 1 });
    const a = (await w1.next())!;
    const answer = await finish(w1, a.id, { status: 'completed' });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const b = answer.body;
    const asked = await other.api('POST', `/workers/${w1.id}/status`, { action: 'sleep', when: 'after-task' });
    assert.equal(asked.status, 200, JSON.stringify(asked.body));
    const second = await finish(w1, b.id, { status: 'completed' });
    assert.equal(second.status, 423, JSON.stringify(second.body));
    assert.equal(second.body.statusRequested, 'asleep');
    assert.equal((await task(serving, b.id)).status, 'completed');
    const counts = (await job(serving, jobId)).taskCounts;
    assert.deepEqual([counts.completed, counts.active, counts.queued], [2, 0, 2]);
  });

  it('tags changed through another manager: the worker is not handed a task its new tags exclude', async (t) => {
    const { serving, other } = await twoManagers(t);
    const w1 = await new ProtocolWorker(serving, 'gpu-box', { tags: ['gpu'] }).register();
    const { id: jobId } = await submit(serving, { tag: 'gpu', frames: '1-4', chunkSize: 1 });
    const a = (await w1.next())!;
    const answer = await finish(w1, a.id, { status: 'completed' });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const b = answer.body;
    const retagged = await other.api('PUT', `/workers/${w1.id}/tags`, { tags: ['cpu'] });
    assert.equal(retagged.status, 200, JSON.stringify(retagged.body));
    const second = await finish(w1, b.id, { status: 'completed' }, 300);
    assert.equal(second.status, 204, JSON.stringify(second.body));
    assert.equal((await task(serving, b.id)).status, 'completed');
    const counts = (await job(serving, jobId)).taskCounts;
    assert.deepEqual([counts.completed, counts.active, counts.queued], [2, 0, 2]);
  });

  it("a job's last task, completed without the lookup: the job completes and the worker takes the next job", async (t) => {
    const serving = await startTestManager(t, fileCluster());
    const w1 = await new ProtocolWorker(serving, 'w1').register();
    const first = await submit(serving, { frames: '1-2', chunkSize: 1 });
    const a = (await w1.next())!;
    const answer = await finish(w1, a.id, { status: 'completed' });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const second = await submit(serving, { frames: '1-1', chunkSize: 1 });
    // The job's status follows from this completion: the one statement stands back, the worker was confirmed.
    const last = await finish(w1, answer.body.id, { status: 'completed' });
    assert.equal(last.status, 200, JSON.stringify(last.body));
    assert.equal(last.body.jobId, second.id);
    assert.equal((await job(serving, first.id)).status, 'completed');
  });

  it('workers of two capabilities finishing together: each group is settled and served in its own statement', async (t) => {
    const serving = await startTestManager(t, fileCluster());
    const renderers = await Promise.all(
      ['r1', 'r2', 'r3'].map((name) => new ProtocolWorker(serving, name, { types: ['misc'] }).register()),
    );
    const tagged = await Promise.all(
      ['g1', 'g2'].map((name) => new ProtocolWorker(serving, name, { tags: ['gpu'] }).register()),
    );
    const plain = await submit(serving, { frames: '1-20', chunkSize: 1 });
    const gpu = await submit(serving, { tag: 'gpu', priority: 90, frames: '1-20', chunkSize: 1 });
    const crew = [...renderers, ...tagged];
    const held = await Promise.all(crew.map(async (w) => (await w.next())!));
    // Three rounds of everyone finishing at once (mostly the same round), skipping the lookup after the first.
    let current = held;
    for (let step = 0; step < 3; step++) {
      const answers = await Promise.all(crew.map((w, i) => finish(w, current[i]!.id, { status: 'completed' })));
      for (const answer of answers) assert.equal(answer.status, 200, JSON.stringify(answer.body));
      current = answers.map((answer) => answer.body);
      // The gpu job outranks the other: the tagged workers take its tasks; the others never do.
      assert.deepEqual(
        current.map((next) => next!.jobId),
        crew.map((_, i) => (i < 3 ? plain.id : gpu.id)),
      );
    }
    const [p, g] = [(await job(serving, plain.id)).taskCounts, (await job(serving, gpu.id)).taskCounts];
    assert.deepEqual([p.completed, p.active, g.completed, g.active], [9, 3, 6, 2]);
  });
});
