import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';
import { startTestManager, ProtocolWorker, type TestManager } from '../testing/farm.js';

/** One PostgreSQL for the file; each test gets its own database and manager. */
let cluster: TestCluster;
const cleanups: Array<() => unknown> = [];
before(async () => {
  cluster = await startTestCluster({ after: (fn) => cleanups.push(fn) });
});
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

async function echoJob(m: TestManager, body: Record<string, unknown> = {}) {
  const response = await m.api('POST', '/jobs', { name: 'echo', type: 'echo-sleep', settings: { message: 'hi' }, ...body });
  assert.equal(response.status, 201, JSON.stringify(response.body));
  return response.body as { id: string };
}

describe('scheduling', () => {
  it('runs a job to completion through the worker protocol', async (t) => {
    const m = await startTestManager(t, cluster);
    const worker = await new ProtocolWorker(m, 'w1').register();
    const job = await echoJob(m, { frames: '1-8', chunkSize: 4 });
    const first = await worker.next();
    assert.ok(first);
    assert.equal(first.jobId, job.id);
    await worker.complete(first.id);
    const second = await worker.next();
    assert.ok(second);
    await worker.complete(second.id);
    assert.equal(await worker.next(), undefined);
    const final = await m.api('GET', `/jobs/${job.id}`);
    assert.equal(final.body.status, 'completed');
    assert.equal(final.body.taskCounts.completed, 2);
  });
});
