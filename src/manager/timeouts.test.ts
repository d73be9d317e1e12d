import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useFileCluster } from '../testing/cluster.js';
import { startTestManager, ProtocolWorker } from '../testing/farm.js';
import { submit, task, workers } from '../testing/farm-jobs.js';
import { manualClock } from '../util/clock.js';
import { SECOND, waitFor } from '../util/time.js';

/** One PostgreSQL for the file; each test gets its own database and manager. */
const fileCluster = useFileCluster({ before, after });

/**
 * The manager runs on a clock the test moves, and checks timeouts when the test says so (the
 * periodic check is an hour away): nothing here waits for time to pass.
 */
const NEVER = 3600;

describe('timeouts', () => {
  it('a task unseen past task_timeout fails, with a note in its log', async (t) => {
    const clock = manualClock();
    const m = await startTestManager(
      t,
      fileCluster(),
      { task_timeout: 600, worker_timeout: 100 * NEVER, timeout_check_interval: NEVER },
      { clock },
    );
    // Two workers: with one, nobody would be left to retry it and it would fail outright.
    const [w, busy] = await workers(m, 2);
    await submit(m, { frames: '1-20', chunkSize: 1 });
    const held = (await w!.next())!;
    // A task that keeps reporting progress is not timed out, however long it runs.
    const reported = (await busy!.next())!;
    for (let p = 0.1; p < 0.8; p += 0.1) {
      clock.advance(100 * SECOND);
      assert.equal((await busy!.update(reported.id, { progress: p })).status, 204);
    }
    clock.advance(100 * SECOND); // held: 800 s without a word; reported: 100 s
    assert.equal((await m.checkTimeouts()).tasks, 1);
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
    await m.checkTimeouts();
    const alive = await task(m, reported.id);
    assert.deepEqual([alive.status, alive.workerId], ['active', busy!.id], 'the reporting task outlived task_timeout');
  });

  it('a worker unseen past worker_timeout goes to error and its task is requeued', async (t) => {
    const clock = manualClock();
    const m = await startTestManager(
      t,
      fileCluster(),
      { worker_timeout: 60, timeout_check_interval: NEVER },
      { clock },
    );
    const [w] = await workers(m, 1);
    // It runs only video tasks, so it never takes the requeued one.
    const polling = await new ProtocolWorker(m, 'poller', { types: ['video'] }).register();
    await submit(m);
    const held = (await w!.next())!;
    await m.services.auth.flushHeartbeats(); // both were heard from at the clock's start
    clock.advance(61 * SECOND);
    // A worker that keeps asking for work (nothing is left for it) counts as seen.
    assert.equal(await polling.next(0), undefined);
    assert.equal((await m.checkTimeouts()).workers, 1);
    await waitFor(async () => (await m.api('GET', `/workers/${w!.id}`)).body.status === 'error', {
      what: 'the worker to time out',
    });
    const row = await task(m, held.id);
    assert.equal(row.status, 'queued');
    assert.equal(row.workerId, null);
    clock.advance(30 * SECOND);
    assert.equal(await polling.next(0), undefined);
    await m.checkTimeouts();
    const poller = (await m.api('GET', `/workers/${polling.id}`)).body;
    assert.equal(poller.status, 'awake', 'the polling worker outlived worker_timeout');
  });
});
