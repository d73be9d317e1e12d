import { it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useFileCluster } from '../../testing/cluster.js';
import { createTestDatabase, ProtocolWorker, startTestManager, type TestManager } from '../../testing/farm.js';
import { submit } from '../../testing/farm-jobs.js';
import { ApiClient, type ServerEvent } from '../../client/index.js';
import { waitFor, SECOND } from '../../util/time.js';

const fileCluster = useFileCluster({ before, after });

/** Only a wake-up can serve a waiting worker in these tests: the periodic round is an hour away. */
const NO_POLLING = { dispatch_poll_interval: 3600, long_poll: 60 };
/** The longest a task request may wait (the API allows 60 s): without a wake-up it ends empty. */
const LONG_WAIT_MS = 60 * SECOND;

type After = { after: (fn: () => unknown) => void };

async function twoManagers(t: After, overrides = {}): Promise<[TestManager, TestManager]> {
  const databaseUrl = await createTestDatabase(fileCluster());
  const a = await startTestManager(t, fileCluster(), overrides, { databaseUrl });
  const b = await startTestManager(t, fileCluster(), overrides, { databaseUrl });
  // Each knows the other listens once the links are up (hello, then counting sessions).
  await waitFor(() => peersSeen(a) && peersSeen(b), { what: 'the managers to see each other' });
  return [a, b];
}

/** A manager tells the others of its changes once its link listens and it knows someone else does. */
const peersSeen = (m: TestManager): boolean => m.cluster.link.listening && m.cluster.link.peersListening;

const leaders = (managers: TestManager[]): TestManager[] => managers.filter((m) => m.cluster.status().leader);

it('of two managers on one database exactly one leads; when it stops, the other leads within seconds', async (t) => {
  const [a, b] = await twoManagers(t);
  await waitFor(() => leaders([a, b]).length === 1, { what: 'one leader' });
  const [leader] = leaders([a, b]);
  const other = leader === a ? b : a;
  const seenByOther = (await other.api('GET', '/version')).body.manager;
  assert.equal(seenByOther.leader, false);
  await waitFor(() => other.cluster.status().leaderId === leader!.cluster.managerId, {
    what: 'the standby to name it',
  });
  assert.equal(other.cluster.status().leaderUrl, leader!.url);

  const stoppedAt = Date.now();
  await leader!.close();
  await waitFor(() => other.cluster.status().leader, { timeoutMs: 10 * SECOND, what: 'the other manager to lead' });
  t.diagnostic(`leadership moved in ${Date.now() - stoppedAt} ms`);
  const version = (await other.api('GET', '/version')).body.manager;
  assert.deepEqual(
    { leader: version.leader, leaderId: version.leaderId },
    { leader: true, leaderId: other.cluster.managerId },
  );
});

it('the farm-wide duties run on the leader, and on the other manager once it leads', async (t) => {
  // A worker silent for a second times out: only the leader's timeout checker can say so.
  const [a, b] = await twoManagers(t, { worker_timeout: 1, timeout_check_interval: 0.2 });
  await waitFor(() => leaders([a, b]).length === 1, { what: 'one leader' });
  const [leader] = leaders([a, b]);
  const other = leader === a ? b : a;
  const statusOf = async (m: TestManager, id: string) => (await m.api('GET', `/workers/${id}`)).body.status;
  const first = await new ProtocolWorker(other, 'silent-1').register();
  await waitFor(async () => (await statusOf(other, first.id)) === 'error', { what: 'the leader to time it out' });

  await leader!.close();
  await waitFor(() => other.cluster.status().leader, { timeoutMs: 10 * SECOND, what: 'the other manager to lead' });
  const second = await new ProtocolWorker(other, 'silent-2').register();
  await waitFor(async () => (await statusOf(other, second.id)) === 'error', { what: 'the new leader to time it out' });
});

it('a task submitted through one manager goes to a worker long-polling the other, by a wake-up', async (t) => {
  const [a, b] = await twoManagers(t, NO_POLLING);
  const worker = await new ProtocolWorker(b, 'far').register();
  const asked = worker.next(LONG_WAIT_MS);
  await waitFor(() => b.services.dispatcher.waiting === 1, { what: 'the worker to wait on manager b' });
  // Its first round found nothing: from now on only a wake-up runs another.
  await waitFor(() => b.services.dispatcher.stats.rounds >= 1, { what: 'b to look once' });
  const roundsBefore = b.services.dispatcher.stats.rounds;
  const submittedAt = Date.now();
  const job = await submit(a);
  const task = await asked;
  t.diagnostic(`task taken ${Date.now() - submittedAt} ms after the submission through the other manager`);
  assert.equal(task?.jobId, job.id);
  assert.ok(b.services.dispatcher.stats.rounds > roundsBefore, 'b ran a round after the submission');
  assert.equal(a.services.dispatcher.stats.assigned, 0, 'manager a assigned nothing itself');
});

it('a control request through one manager ends the long poll on the other at once', async (t) => {
  const [a, b] = await twoManagers(t, NO_POLLING);
  const worker = await new ProtocolWorker(b, 'sleepy').register();
  const asked = worker.call('POST', `/worker/task?waitMs=${LONG_WAIT_MS}`);
  await waitFor(() => b.services.dispatcher.waiting === 1, { what: 'the worker to wait on manager b' });
  const control = await a.api('POST', `/workers/${worker.id}/status`, { action: 'sleep', when: 'now' });
  assert.equal(control.status, 200, JSON.stringify(control.body));
  const answer = await asked;
  assert.equal(answer.status, 423, JSON.stringify(answer.body));
  assert.equal(answer.body.statusRequested, 'asleep');
});

it("one manager's event stream shows changes made through the other, large log batches included", async (t) => {
  const [a, b] = await twoManagers(t);
  const controller = new AbortController();
  t.after(() => controller.abort());
  const events: ServerEvent[] = [];
  const reading = (async () => {
    try {
      for await (const event of new ApiClient({ baseUrl: b.url }).events({ signal: controller.signal }))
        events.push(event);
    } catch {
      // aborted at the end
    }
  })();
  await waitFor(() => b.services.bus.subscribers === 1, { what: "b's stream to subscribe" });
  // b says it streams events; from then on a sends them.
  await waitFor(() => a.cluster.link.peersStreaming, { what: 'a to know that b streams events' });
  const published: string[] = [];
  a.services.bus.subscribe((event) => {
    if (event.type === 'log') published.push(...event.lines);
  });
  const worker = await new ProtocolWorker(a, 'near').register();
  const job = await submit(a);
  const task = await worker.next();
  assert.ok(task);
  // Far above NOTIFY's 8000-byte payload limit, with non-ASCII text.
  const lines = Array.from({ length: 300 }, (_, i) => `frame ${i} rendered: ✓ ${'·'.repeat(60)}`);
  assert.equal((await worker.update(task.id, { log: lines })).status, 204);
  await worker.complete(task.id);
  await waitFor(() => events.some((e) => e.event === 'job' && (e.data as { status: string }).status === 'completed'), {
    what: 'the completion to show on b',
  });
  const logged = events
    .filter((e) => e.event === 'log' && (e.data as { taskId: string }).taskId === task.id)
    .flatMap((e) => (e.data as { lines: string[] }).lines);
  assert.ok(published.length >= lines.length, 'a published the lines');
  assert.deepEqual(logged, published.slice(0, logged.length));
  assert.ok(logged.length >= lines.length, `b showed ${logged.length} of ${published.length} lines`);
  assert.ok(events.some((e) => e.event === 'job' && (e.data as { jobId: string }).jobId === job.id));
  assert.ok(events.some((e) => e.event === 'worker' && (e.data as { workerId: string }).workerId === worker.id));
  controller.abort();
  await reading;
  await waitFor(() => !a.cluster.link.peersStreaming, { what: 'a to stop sending events once b streams none' });
});

it('a worker deleted through one manager is refused by the other, with no event stream open anywhere', async (t) => {
  const [a, b] = await twoManagers(t);
  const worker = await new ProtocolWorker(a, 'removed').register(); // manager A now knows its credentials
  assert.equal(a.cluster.link.peersStreaming || b.cluster.link.peersStreaming, false);
  await worker.call('POST', '/worker/sign-off');
  assert.equal((await b.api('DELETE', `/workers/${worker.id}`)).status, 204);
  await waitFor(async () => (await worker.call('POST', '/worker/task?waitMs=0')).status === 401, {
    timeoutMs: 10 * SECOND,
    what: 'manager A to refuse the deleted worker (it kept accepting its token)',
  });
});
