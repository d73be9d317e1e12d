import { it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useFileCluster } from '../../testing/cluster.js';
import { createTestDatabase, ProtocolWorker, startTestManager, type TestManager } from '../../testing/farm.js';
import { waitFor, SECOND } from '../../util/time.js';

const fileCluster = useFileCluster({ before, after });

type After = { after: (fn: () => unknown) => void };

async function twoManagers(t: After): Promise<[TestManager, TestManager]> {
  const databaseUrl = await createTestDatabase(fileCluster());
  const a = await startTestManager(t, fileCluster(), {}, { databaseUrl });
  const b = await startTestManager(t, fileCluster(), {}, { databaseUrl });
  return [a, b];
}

const runsOf = async (m: TestManager, jobId: string): Promise<Array<Record<string, string | null>>> =>
  (await m.api('GET', `/jobs/${jobId}/runs`)).body.runs;

it('a run started through one manager and ended through another is one run, with its start and its end', async (t) => {
  const [a, b] = await twoManagers(t);
  const job = (await a.api('POST', '/jobs', { name: 'moved', type: 'echo-sleep', settings: { tasks: 1 } })).body;
  const throughA = await new ProtocolWorker(a, 'mover').register();
  const task = await throughA.next();
  assert.ok(task);
  // Manager A has stored the run's start before the worker moves on to manager B.
  await waitFor(async () => (await runsOf(b, job.id)).length === 1, { what: 'the run stored as running' });
  const throughB = Object.assign(new ProtocolWorker(b, 'mover'), { id: throughA.id, token: throughA.token });
  await throughB.complete(task.id);
  const runs = await waitFor(
    async () => {
      const now = await runsOf(a, job.id);
      return now.some((run) => run.finishedAt) ? now : undefined;
    },
    { timeoutMs: 10 * SECOND, what: 'the run to end' },
  );
  assert.equal(runs.length, 1, `one run, not a running one and a startless one: ${JSON.stringify(runs)}`);
  assert.equal(runs[0]?.outcome, 'completed');
  assert.ok(runs[0]?.startedAt && runs[0].finishedAt);
  assert.equal(runs[0]?.workerName, 'mover');
});

it('a task canceled through another manager ends the run its worker started through the first', async (t) => {
  const [a, b] = await twoManagers(t);
  const job = (await a.api('POST', '/jobs', { name: 'stopped', type: 'echo-sleep', settings: { tasks: 1 } })).body;
  const worker = await new ProtocolWorker(a, 'runner').register();
  const task = await worker.next();
  assert.ok(task);
  await waitFor(async () => (await runsOf(b, job.id)).length === 1, { what: 'the run stored as running' });
  assert.equal((await b.api('POST', `/tasks/${task.id}/status`, { action: 'cancel' })).status, 200);
  const runs = await waitFor(
    async () => {
      const now = await runsOf(b, job.id);
      return now.every((run) => run.finishedAt) ? now : undefined;
    },
    { timeoutMs: 10 * SECOND, what: 'the run to end (it stayed running for good)' },
  );
  assert.deepEqual(
    runs.map((run) => run.outcome),
    ['canceled'],
  );
});
