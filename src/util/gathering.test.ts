import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Gathering } from './gathering.js';

describe('Gathering', () => {
  it('a full batch does not wait; a wait ends once offers fill it, on release, or after the linger', async () => {
    // A linger of an hour: only the offer or the release can end these waits.
    const long = new Gathering(3, 3_600_000);
    await long.wait(3);
    let ended = false;
    const filling = long.wait(1).then(() => (ended = true));
    long.offer(2);
    await Promise.resolve();
    assert.equal(ended, false, 'two of three is not full');
    long.offer(3);
    await filling;
    const released = long.wait(0);
    long.release();
    await released;
    // A wait for fewer than the target ends once that many gather.
    const few = long.wait(1, 2);
    long.offer(2);
    await few;
    // A short linger ends the wait by itself.
    await new Gathering(3, 5).wait(0);
  });
});
