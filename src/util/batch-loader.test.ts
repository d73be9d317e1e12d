import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchLoader } from './batch-loader.js';

/** A fetch that records each batch and answers when released. */
function gatedFetch() {
  const batches: string[][] = [];
  const gates: Array<() => void> = [];
  const fetchMany = async (keys: string[]): Promise<Map<string, string>> => {
    batches.push(keys);
    await new Promise<void>((resolve) => gates.push(resolve));
    if (keys.includes('boom')) throw new Error('fetch failed');
    return new Map(keys.filter((k) => k !== 'missing').map((k) => [k, k.toUpperCase()]));
  };
  const release = async (): Promise<void> => {
    while (gates.length === 0) await new Promise((resolve) => setImmediate(resolve));
    gates.shift()!();
  };
  return { batches, fetchMany, release };
}

/** Lets the event loop turn until the loader has called fetchMany `n` times in all. */
async function fetched(batches: string[][], n: number): Promise<void> {
  while (batches.length < n) await new Promise((resolve) => setImmediate(resolve));
}

test('lookups of one event-loop turn share one fetch; those made while it runs share the next', async () => {
  const { batches, fetchMany, release } = gatedFetch();
  const loader = new BatchLoader(fetchMany);
  const first = [loader.load('a'), loader.load('b')];
  assert.deepEqual(batches, [], 'the fetch starts at the end of the turn, with every lookup of it');
  await fetched(batches, 1);
  const rest = [loader.load('b'), loader.load('c'), loader.load('b'), loader.load('missing')];
  assert.deepEqual(batches, [['a', 'b']]);
  await release();
  assert.deepEqual(await Promise.all(first), ['A', 'B']);
  await release();
  assert.deepEqual(await Promise.all(rest), ['B', 'C', 'B', undefined]);
  assert.deepEqual(
    batches,
    [
      ['a', 'b'],
      ['b', 'c', 'missing'],
    ],
    'one fetch for everything asked meanwhile, each key once',
  );
});

test('a failed fetch rejects only its own callers; the loader keeps working', async () => {
  const { batches, fetchMany, release } = gatedFetch();
  const loader = new BatchLoader(fetchMany, 2);
  const first = loader.load('x');
  await fetched(batches, 1);
  const failing = [loader.load('boom'), loader.load('y')];
  const later = loader.load('z');
  await release();
  assert.equal(await first, 'X');
  await release();
  for (const result of await Promise.allSettled(failing)) assert.equal(result.status, 'rejected');
  await release();
  assert.equal(await later, 'Z');
  assert.deepEqual(batches, [['x'], ['boom', 'y'], ['z']], 'batches stay within maxBatch');
});
