import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mapCallbacks, mapLimit, runFsBatch } from './limit.js';

const later =
  <R>(value: R, fail = false) =>
  (done: (error: NodeJS.ErrnoException | null, result?: R) => void) =>
    setImmediate(() =>
      fail ? done(Object.assign(new Error(`failed ${String(value)}`), { code: 'EIO' })) : done(null, value),
    );

test('mapLimit and mapCallbacks keep order and bound the calls in flight', async () => {
  const items = Array.from({ length: 50 }, (_, i) => i);
  let running = 0;
  let peak = 0;
  const out = await mapLimit(items, 4, async (i) => {
    peak = Math.max(peak, ++running);
    await new Promise((resolve) => setImmediate(resolve));
    running--;
    return i * 2;
  });
  assert.deepEqual(
    out,
    items.map((i) => i * 2),
  );
  assert.equal(peak, 4);
  running = 0;
  peak = 0;
  const viaCallbacks = await mapCallbacks(items, 3, (i, _, done) => {
    peak = Math.max(peak, ++running);
    later(i * 3)((error, result) => {
      running--;
      done(error, result);
    });
  });
  assert.deepEqual(
    viaCallbacks,
    items.map((i) => i * 3),
  );
  assert.equal(peak, 3);
  assert.deepEqual(await mapCallbacks([], 3, () => assert.fail('not called')), []);
});

test('mapCallbacks rejects with the first error after the running calls settle', async () => {
  let started = 0;
  let settled = 0;
  await assert.rejects(
    mapCallbacks([1, 2, 3, 4, 5, 6, 7, 8], 3, (i, _, done) => {
      started++;
      later(
        i,
        i === 2,
      )((error, result) => {
        settled++;
        done(error, result);
      });
    }),
    /failed 2/,
  );
  assert.ok(started < 8, 'no call starts after the failure');
  assert.equal(settled, started, 'the calls in flight finished before the rejection');
  await assert.rejects(
    mapCallbacks([1], 1, () => {
      throw new Error('thrown synchronously');
    }),
    /thrown synchronously/,
  );
});

test('runFsBatch runs synchronously while calls are fast and in parallel once they are slow', async () => {
  const items = Array.from({ length: 100 }, (_, i) => i);
  const how: string[] = [];
  const fast = await runFsBatch(
    items,
    (i) => {
      how.push('sync');
      return i + 1;
    },
    (i, _, done) => {
      how.push('async');
      later(i + 1)(done);
    },
  );
  assert.deepEqual(
    fast,
    items.map((i) => i + 1),
  );
  assert.ok(!how.includes('async'));

  how.length = 0;
  const slow = await runFsBatch(
    items,
    (i) => {
      how.push('sync');
      return i + 1;
    },
    (i, _, done) => {
      how.push('async');
      later(i + 1)(done);
    },
    { sliceMs: 0, slowCallMs: 0 },
  );
  assert.deepEqual(
    slow,
    items.map((i) => i + 1),
  );
  assert.deepEqual(how.slice(0, 2), ['sync', 'async'], 'one call measured, the rest in parallel');
  assert.equal(how.length, 100);

  await assert.rejects(
    runFsBatch(
      [1, 2],
      () => {
        throw new Error('sync failure');
      },
      () => assert.fail('not called'),
    ),
    /sync failure/,
  );
});
