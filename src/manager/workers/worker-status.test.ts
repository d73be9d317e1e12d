import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useFileCluster } from '../../testing/cluster.js';
import { startTestManager, ProtocolWorker, type TestManager } from '../../testing/farm.js';
import { SECOND, waitFor } from '../../util/time.js';
import { manualClock } from '../../util/clock.js';

const fileCluster = useFileCluster({ before, after });

/** Timeouts are checked when a test says so, on a clock it moves (nothing waits for time to pass). */
const TIMING = { worker_timeout: 60, timeout_check_interval: 3600 };
const timeOut = async (m: TestManager, clock: ReturnType<typeof manualClock>) => {
  await m.services.auth.flushHeartbeats();
  clock.advance(61 * SECOND);
  await m.checkTimeouts();
};

const row = async (m: TestManager, w: ProtocolWorker) => (await m.api('GET', `/workers/${w.id}`)).body;
const signOn = (w: ProtocolWorker, tags: string[]) =>
  w.call('POST', '/worker/sign-on', { name: w.name, platform: 'linux', supportedTaskTypes: ['misc'], tags });

describe('worker status and what it allows', () => {
  it('a worker in error (timed out, then back) gets no task until it signs on again', async (t) => {
    const clock = manualClock();
    const m = await startTestManager(t, fileCluster(), TIMING, { clock });
    const w = await new ProtocolWorker(m, 'w1').register();
    await timeOut(m, clock);
    await waitFor(async () => (await row(m, w)).status === 'error', { what: 'the worker to time out' });
    await m.api('POST', '/jobs', { name: 'j', type: 'echo-sleep', settings: { message: 'hi' } });
    const refused = await w.call('POST', '/worker/task?waitMs=0');
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.equal(refused.body.error.code, 'sign_on_required');
    assert.match(refused.body.error.message, /w1 is error: it must sign on again/);
    assert.equal(
      (await w.call('GET', '/worker/state')).body.error.code,
      'sign_on_required',
      'nor may it poll for its state',
    );
    assert.equal((await row(m, w)).status, 'error', 'asking did not bring it back');
    assert.equal((await signOn(w, [])).status, 200);
    assert.equal((await row(m, w)).status, 'awake');
    assert.ok(await w.next(), 'signed on again, it gets the task');
  });

  it('a sleeping worker that times out signs on asleep again', async (t) => {
    const clock = manualClock();
    const m = await startTestManager(t, fileCluster(), TIMING, { clock });
    const w = await new ProtocolWorker(m, 'w1').register();
    await m.api('POST', `/workers/${w.id}/status`, { action: 'sleep', when: 'now' });
    assert.equal((await w.call('POST', '/worker/state', { status: 'asleep' })).status, 204);
    await timeOut(m, clock);
    await waitFor(async () => (await row(m, w)).status === 'error', { what: 'the worker to time out' });
    assert.equal((await signOn(w, [])).status, 200);
    assert.equal((await row(m, w)).status, 'asleep');
  });

  it("tags set by a user survive sleep, wake, restart and signing on again; the worker's own apply until then", async (t) => {
    const m = await startTestManager(t, fileCluster());
    const w = await new ProtocolWorker(m, 'w1', { tags: ['own'] }).register();
    assert.equal((await signOn(w, ['own', 'changed-in-config'])).status, 200);
    assert.deepEqual(
      (await row(m, w)).tags,
      ['own', 'changed-in-config'],
      "no user set tags yet: the worker's configuration decides",
    );
    assert.equal((await m.api('PUT', `/workers/${w.id}/tags`, { tags: ['gpu', 'comp'] })).status, 200);
    const expectTags = async (why: string) => assert.deepEqual((await row(m, w)).tags, ['gpu', 'comp'], why);
    // Sleep, then wake: a woken worker signs on again with its own tags.
    await m.api('POST', `/workers/${w.id}/status`, { action: 'sleep', when: 'now' });
    assert.equal((await w.call('POST', '/worker/state', { status: 'asleep' })).status, 204);
    await m.api('POST', `/workers/${w.id}/status`, { action: 'wake' });
    assert.equal((await w.call('GET', '/worker/state')).body.statusRequested, 'awake');
    assert.equal((await signOn(w, ['own'])).status, 200);
    await expectTags('after sleep and wake');
    // Restart: the worker signs off and comes back.
    await m.api('POST', `/workers/${w.id}/status`, { action: 'restart', when: 'now' });
    assert.equal((await w.call('POST', '/worker/sign-off')).status, 204);
    assert.equal((await row(m, w)).status, 'restart');
    assert.equal((await signOn(w, ['own'])).status, 200);
    await expectTags('after a restart');
    assert.equal((await signOn(w, [])).status, 200);
    await expectTags('after signing on again');
    // The tags decide what it runs: a job tagged gpu reaches it.
    await m.api('POST', '/jobs', { name: 'j', type: 'echo-sleep', settings: { message: 'hi' }, tag: 'gpu' });
    assert.ok(await w.next());
  });

  it('a sleep schedule applies the moment it is set or changed, not at the next periodic check', async (t) => {
    const m = await startTestManager(t, fileCluster());
    const w = await new ProtocolWorker(m, 'w1').register();
    const hhmm = (date: Date) =>
      `${String(date.getHours()).padStart(2, '0')}:${String(date.getMinutes()).padStart(2, '0')}`;
    const now = Date.now();
    // A window around now (it may cross midnight; schedules handle that).
    const around = {
      enabled: true,
      days: [],
      start: hhmm(new Date(now - 3600_000)),
      end: hhmm(new Date(now + 3600_000)),
    };
    const set = await m.api('PUT', `/workers/${w.id}/sleep-schedule`, around);
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.equal(set.body.statusRequested, 'asleep', 'inside its window: asked to sleep at once');
    assert.equal(set.body.lazyStatusRequest, true, 'after its current task');
    const answer = await w.call('POST', '/worker/task?waitMs=0');
    assert.equal(answer.status, 423, 'an idle worker hears of it on its next request');
    assert.equal(answer.body.statusRequested, 'asleep');
    assert.equal((await w.call('POST', '/worker/state', { status: 'asleep' })).status, 204);
    // Changed to a window that excludes now: woken at once.
    const away = {
      enabled: true,
      days: [],
      start: hhmm(new Date(now + 2 * 3600_000)),
      end: hhmm(new Date(now + 3 * 3600_000)),
    };
    const changed = await m.api('PUT', `/workers/${w.id}/sleep-schedule`, away);
    assert.equal(changed.body.status, 'asleep');
    assert.equal(changed.body.statusRequested, 'awake', 'outside its window: asked to wake at once');
  });
});
