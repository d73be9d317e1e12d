import { SHAMAN_DEFAULTS } from './defaults.js';

/**
 * Runs `fn` over `items` with at most `limit` calls in flight and returns the results in order.
 * The first rejection stops new calls and is rethrown once the running ones settle.
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const run = async (): Promise<void> => {
    while (!failure && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index] as T, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, run));
  if (failure) throw failure.error;
  return results;
}

export type Callback<R> = (error: NodeJS.ErrnoException | null, result?: R) => void;

/**
 * Like mapLimit for Node's callback file-system calls (`fs.symlink`, `fs.utimes`, `fs.stat`),
 * which cost about half of what their promise versions do per call: for 10,000 small
 * operations that is tens of milliseconds. Many stay in flight at once, which hides the latency
 * of network file systems. `start` may turn an error into a result by calling back without it.
 */
export function mapCallbacks<T, R>(
  items: readonly T[],
  limit: number,
  start: (item: T, index: number, done: Callback<R>) => void,
): Promise<R[]> {
  return new Promise((resolve, reject) => {
    const results = new Array<R>(items.length);
    let next = 0;
    let running = 0;
    let failure: NodeJS.ErrnoException | undefined;
    const launch = (): void => {
      while (!failure && running < limit && next < items.length) {
        const index = next++;
        running++;
        let called = false;
        const done: Callback<R> = (error, result) => {
          if (called) return;
          called = true;
          running--;
          if (error) failure ??= error;
          else results[index] = result as R;
          if (running === 0 && (failure || next >= items.length)) {
            if (failure) reject(failure);
            else resolve(results);
          } else launch();
        };
        try {
          start(items[index] as T, index, done);
        } catch (error) {
          done(error as NodeJS.ErrnoException);
        }
      }
    };
    if (items.length === 0) resolve(results);
    else launch();
  });
}

export interface FsBatchOptions {
  /** Longest stretch of synchronous calls before the event loop gets a turn. */
  sliceMs?: number;
  /** Mean duration of a synchronous call above which the rest go to the thread pool in parallel. */
  slowCallMs?: number;
  /** Calls in flight once parallel. */
  concurrency?: number;
}

/**
 * Runs one file-system call per item and returns the results in order. It starts with the
 * synchronous call, in slices of at most `sliceMs` between event-loop turns: on a local disk that
 * costs 2-3 µs per call against 5-10 µs through the thread pool. When the first slice shows the
 * calls to be slow (a network file system, where each is a round trip), the rest run in parallel
 * through the thread pool, which hides the latency. `sync` throws to fail; `async` calls back.
 */
export async function runFsBatch<T, R>(
  items: readonly T[],
  sync: (item: T, index: number) => R,
  async: (item: T, index: number, done: Callback<R>) => void,
  options: FsBatchOptions = {},
): Promise<R[]> {
  const sliceMs = options.sliceMs ?? 4;
  const slowCallMs = options.slowCallMs ?? 0.1;
  const results = new Array<R>(items.length);
  let index = 0;
  let first = true;
  while (index < items.length) {
    const sliceStart = performance.now();
    const sliceFrom = index;
    let elapsed = 0;
    do {
      results[index] = sync(items[index] as T, index);
      index++;
      elapsed = performance.now() - sliceStart;
    } while (index < items.length && elapsed < sliceMs);
    if (index >= items.length) break;
    if (first && elapsed / (index - sliceFrom) > slowCallMs) {
      const rest = items.slice(index);
      const offset = index;
      const tail = await mapCallbacks<T, R>(
        rest,
        options.concurrency ?? SHAMAN_DEFAULTS.fsConcurrency,
        (item, i, done) => async(item, offset + i, done),
      );
      for (const [i, result] of tail.entries()) results[offset + i] = result;
      break;
    }
    first = false;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return results;
}
