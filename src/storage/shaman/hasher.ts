import { stat as statCallback, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve, sep } from 'node:path';
import { Worker } from 'node:worker_threads';
import { UserError } from '../../util/errors.js';
import { SHAMAN_DEFAULTS } from './defaults.js';
import type { HashCache } from './hash-cache.js';
import { makeFileHasher, type FileHash } from './hash-file.js';
import type { HashBatch, HashWorkerMessage } from './hash-worker.js';
import { runFsBatch } from './limit.js';

export { HashCache } from './hash-cache.js';

export interface HashInput {
  /** Absolute, or relative to `baseDir`; kept as given in the result. */
  path: string;
  /** Size and mtime as listed (listTree gives them); files without them are statted first. */
  size?: number;
  mtimeMs?: number;
}

export interface HashedFile {
  path: string;
  sha256: string;
  size: number;
  mtimeMs: number;
}

export interface HashProgress {
  filesDone: number;
  filesTotal: number;
  /** Bytes read and hashed so far (cache hits count as done without adding here). */
  bytesHashed: number;
  /** Bytes still to hash when hashing started. */
  bytesToHash: number;
}

export interface HashOptions {
  baseDir?: string;
  cache?: HashCache;
  onProgress?: (progress: HashProgress) => void;
  /** Worker threads; default os.availableParallelism(). */
  workers?: number;
  chunkBytes?: number;
  /** Hash on the calling thread when the files add up to at most this many bytes (default 16 MiB). */
  inlineBytes?: number;
  signal?: AbortSignal;
}

export interface HashReport {
  /** In input order. */
  files: HashedFile[];
  filesHashed: number;
  bytesHashed: number;
  filesFromCache: number;
}

interface Item {
  path: string;
  absolute: string;
  size: number;
  mtimeMs: number;
}

const WORKER_URL = new URL('./hash-worker.js', import.meta.url);
const BATCH_FILES = 64;
const BATCH_BYTES = 16 * 1024 * 1024;
/**
 * Below this many bytes to hash, the files are hashed on the calling thread:
 * starting and stopping worker threads costs ~35 ms, what hashing 30-40 MiB takes.
 */
const INLINE_BYTES = 16 * 1024 * 1024;

/**
 * SHA-256 and size of many files on all cores: a pool of worker threads, each reading in large
 * chunks. With a cache, files whose size and mtime are unchanged are not read; new hashes are
 * added to the cache (the caller saves it). Unreadable files throw a UserError.
 */
export async function hashFiles(
  inputs: readonly (string | HashInput)[],
  options: HashOptions = {},
): Promise<HashReport> {
  const baseDir = resolve(options.baseDir ?? '.');
  const cache = options.cache;
  // Sizes are needed for the cache, for balancing the workers and for the progress total.
  const given = inputs.map((input) => (typeof input === 'string' ? { path: input } : input));
  const absolutes = given.map((input) => underBase(baseDir, input.path));
  const infos = await runFsBatch<number, { size: number; mtimeMs: number } | NodeJS.ErrnoException>(
    given.map((_, i) => i),
    (i) => {
      const { size, mtimeMs } = given[i] as HashInput;
      if (size !== undefined && mtimeMs !== undefined) return { size, mtimeMs };
      try {
        return statSync(absolutes[i] as string);
      } catch (error) {
        return error as NodeJS.ErrnoException;
      }
    },
    (i, _, done) => {
      const { size, mtimeMs } = given[i] as HashInput;
      if (size !== undefined && mtimeMs !== undefined) return done(null, { size, mtimeMs });
      statCallback(absolutes[i] as string, (error, info) => done(null, error ?? info));
    },
  );
  const items: Item[] = infos.map((info, i) => {
    if (info instanceof Error)
      throw new UserError(`cannot hash ${absolutes[i]}: ${info.message}`, { code: 'unreadable' });
    return {
      path: (given[i] as HashInput).path,
      absolute: absolutes[i] as string,
      size: info.size,
      mtimeMs: info.mtimeMs,
    };
  });

  const files = new Array<HashedFile>(items.length);
  const todo: number[] = [];
  items.forEach((item, index) => {
    const sha256 = cache?.get(item.absolute, item.size, item.mtimeMs);
    if (sha256 !== undefined) files[index] = { path: item.path, sha256, size: item.size, mtimeMs: item.mtimeMs };
    else todo.push(index);
  });

  const progress: HashProgress = {
    filesDone: items.length - todo.length,
    filesTotal: items.length,
    bytesHashed: 0,
    bytesToHash: todo.reduce((sum, index) => sum + (items[index] as Item).size, 0),
  };
  options.onProgress?.({ ...progress });
  if (todo.length > 0) {
    // Largest first, so one big file does not start last and leave the other cores idle.
    todo.sort((a, b) => (items[b] as Item).size - (items[a] as Item).size);
    const batches = makeBatches(todo, (index) => (items[index] as Item).size);
    const run = progress.bytesToHash <= (options.inlineBytes ?? INLINE_BYTES) ? runInline : runPool;
    await run(
      batches,
      items.map((item) => item.absolute),
      options,
      (indexes, results) => {
        indexes.forEach((index, i) => {
          const item = items[index];
          const result = results[i];
          if (!item || !result) return;
          files[index] = { path: item.path, ...result };
          cache?.set(item.absolute, result.size, result.mtimeMs, result.sha256);
        });
        progress.filesDone += indexes.length;
        options.onProgress?.({ ...progress });
      },
      (bytes) => {
        progress.bytesHashed += bytes;
        options.onProgress?.({ ...progress });
      },
    );
  }
  return {
    files,
    filesHashed: todo.length,
    bytesHashed: progress.bytesHashed,
    filesFromCache: items.length - todo.length,
  };
}

/** A plain relative path: no `.` or `..` segments, no empty ones, no backslash, not absolute. */
const PLAIN_RELATIVE = /^(?!\.{1,2}(?:\/|$))(?:[^/\\]+(?:\/(?!\.{1,2}(?:\/|$))(?=[^/]))?)+$/;

/**
 * resolve(baseDir, path), by concatenation for the plain relative paths listTree gives (resolve
 * costs microseconds per call, which a 10,000-file re-submit notices).
 */
function underBase(baseDir: string, path: string): string {
  // Windows has drive letters and two separators: resolve() there.
  if (sep !== '/' || !PLAIN_RELATIVE.test(path)) return resolve(baseDir, path);
  return baseDir.endsWith(sep) ? `${baseDir}${path}` : `${baseDir}${sep}${path}`;
}

/** Groups file indexes into batches of up to BATCH_FILES files or BATCH_BYTES bytes. */
function makeBatches(indexes: readonly number[], sizeOf: (index: number) => number): number[][] {
  const batches: number[][] = [];
  let current: number[] = [];
  let bytes = 0;
  for (const index of indexes) {
    if (current.length > 0 && (current.length >= BATCH_FILES || bytes + sizeOf(index) > BATCH_BYTES)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(index);
    bytes += sizeOf(index);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

type Results = FileHash[];

/** Hashes the batches on this thread, one file after another. */
async function runInline(
  batches: readonly number[][],
  paths: readonly string[],
  options: HashOptions,
  onDone: (indexes: number[], results: Results) => void,
  onBytes: (bytes: number) => void,
): Promise<void> {
  const hashFile = makeFileHasher(options.chunkBytes ?? SHAMAN_DEFAULTS.readChunkBytes);
  for (const batch of batches) {
    const results: Results = [];
    for (const index of batch) {
      if (options.signal?.aborted) throw new UserError('hashing was cancelled', { code: 'cancelled' });
      const path = paths[index] as string;
      try {
        results.push(await hashFile(path, onBytes));
      } catch (error) {
        throw new UserError(`cannot hash ${path}: ${(error as Error).message}`, { code: 'unreadable' });
      }
    }
    onDone(batch, results);
  }
}

/** Hands batches to worker threads as they become free; rejects on the first failure. */
function runPool(
  batches: readonly number[][],
  paths: readonly string[],
  options: HashOptions,
  onDone: (indexes: number[], results: Results) => void,
  onBytes: (bytes: number) => void,
): Promise<void> {
  const count = Math.max(1, Math.min(options.workers ?? availableParallelism(), batches.length));
  const chunkBytes = options.chunkBytes ?? SHAMAN_DEFAULTS.readChunkBytes;
  return new Promise<void>((resolvePool, rejectPool) => {
    const workers: Worker[] = [];
    let next = 0;
    let finished = 0;
    let settled = false;
    const stop = (error?: Error): void => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      void Promise.all(workers.map((worker) => worker.terminate())).finally(() =>
        error ? rejectPool(error) : resolvePool(),
      );
    };
    const onAbort = (): void => stop(new UserError('hashing was cancelled', { code: 'cancelled' }));
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort);

    const give = (worker: Worker): void => {
      const id = next++;
      const batch = batches[id];
      if (batch) worker.postMessage({ id, paths: batch.map((index) => paths[index] as string) } satisfies HashBatch);
    };
    for (let i = 0; i < count; i++) {
      const worker = new Worker(WORKER_URL, { workerData: { chunkBytes } });
      workers.push(worker);
      worker.on('message', (message: HashWorkerMessage) => {
        if (settled) return;
        if (message.type === 'progress') return onBytes(message.bytes);
        if (message.type === 'error') {
          return stop(new UserError(`cannot hash ${message.path}: ${message.message}`, { code: 'unreadable' }));
        }
        onDone(batches[message.id] as number[], message.results);
        if (++finished === batches.length) return stop();
        give(worker);
      });
      worker.on('error', (error) => stop(error));
      worker.on('exit', (code) => {
        if (!settled) stop(new Error(`hash worker exited with code ${code}`));
      });
      give(worker);
    }
  });
}
