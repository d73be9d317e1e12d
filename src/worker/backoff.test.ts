import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RecordingClock } from '../testing/retry-clock.js';
import { Backoff } from './backoff.js';

describe('Backoff', () => {
  it('doubles from the minimum up to the maximum, lengthened by a Retry-After within it, and starts over on reset', () => {
    const backoff = new Backoff(100, 1000);
    assert.deepEqual(
      [backoff.next(), backoff.next(), backoff.next(), backoff.next(), backoff.next()],
      [100, 200, 400, 800, 1000],
    );
    backoff.reset();
    assert.equal(backoff.next(500), 500, 'the hint wins over a shorter delay');
    assert.equal(backoff.next(60_000), 1000, 'but not past the maximum');
  });

  it('waits on its clock; wake() ends a wait early and starts over; an abort ends it with false', async () => {
    // The clock waits the whole delay (it hurries only past a minute).
    const clock = new RecordingClock(60_000);
    const backoff = new Backoff(100, 1000, clock);
    assert.equal(await Promise.race([backoff.wait(), Promise.resolve('not yet')]), 'not yet');
    const first = backoff.wait();
    backoff.wake();
    assert.equal(await first, true);
    const controller = new AbortController();
    const second = backoff.wait(controller.signal);
    controller.abort();
    assert.equal(await second, false);
    backoff.wake();
    assert.deepEqual(clock.waits, [100, 200, 100], 'a wake starts the delays over');
  });
});
