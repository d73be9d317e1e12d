/**
 * The Shaman steps of a submission over the manager's API client: ask which contents the store
 * lacks, upload those (each distinct content once: small files many per request, large ones
 * streamed from disk one per request), and check out the job folder.
 */
import { createReadStream, readFile, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError } from '../../client/errors.js';
import type { StorageClient } from '../../client/storage-client.js';
import type { CheckoutResult, ShamanFile, UploadResult } from '../../client/types.js';
import { mapLimit, runFsBatch, type HashCache, type HashedFile } from '../../storage/index.js';
import { OPEN_GATE, type IoGate } from '../../io/index.js';

/** Uploads at once. */
const DEFAULT_CONCURRENCY = 4;
/** Before asking again about a content someone else was uploading. */
const DEFERRED_RETRY_MS = 200;
/** Bytes read from disk at a time (and so sent per chunk). */
const READ_CHUNK = 1024 * 1024;
/** Files up to this size go in batches; larger ones are streamed, one per request. */
const BATCH_FILE_MAX_BYTES = 1024 * 1024;
/** One batch: at most this many bytes and files (well inside the manager's BATCH_LIMITS). */
const BATCH_BYTES = 8 * 1024 * 1024;
const BATCH_FILES = 2000;
/** Batches sent at once. */
const BATCHES_IN_FLIGHT = 3;

const idOf = ({ sha256, size, path }: HashedFile): ShamanFile => ({ sha256, size, path });

/** What the store answered about contents asked about early, by SHA-256: the size asked about, and stored or not. */
export type EarlyAnswers = ReadonlyMap<string, { size: number; stored: boolean }>;

const keyOf = (blob: { sha256: string; size: number }): string => `${blob.sha256}/${blob.size}`;

/**
 * Asks the store about the contents the files under `root` (absolute, real) had when last hashed
 * (from the hash cache), before the tree is listed and hashed again: for an unchanged tree the
 * manager checks its store while this process lists the tree, instead of after. The answer is as
 * current as the moment it was given, like any answer about the store (a checkout checks again).
 * Resolves with no answers when the request fails; missingFiles then asks about everything.
 */
export async function askEarly(storage: StorageClient, cache: HashCache, root: string): Promise<EarlyAnswers> {
  const contents = cache.contentsUnder(root);
  if (contents.size === 0) return new Map();
  try {
    const ids = [...contents.values()];
    const missing = new Set((await storage.missingBlobs(ids)).missing);
    return new Map(ids.map(({ sha256, size }, i) => [sha256, { size, stored: !missing.has(i) }]));
  } catch {
    return new Map();
  }
}

/**
 * The files whose content the store does not have yet. Contents answered early (askEarly) are not
 * asked about again; the others are asked about once each, in the compact form (ids as bytes,
 * positions back).
 */
export async function missingFiles(
  storage: StorageClient,
  files: readonly HashedFile[],
  early: EarlyAnswers = new Map(),
): Promise<HashedFile[]> {
  const positions = new Map<string, number>();
  const ids: HashedFile[] = [];
  const positionOf = files.map((file) => {
    if (early.get(file.sha256)?.size === file.size) return -1;
    const key = keyOf(file);
    let position = positions.get(key);
    if (position === undefined) {
      position = ids.push(file) - 1;
      positions.set(key, position);
    }
    return position;
  });
  const missing = new Set(ids.length > 0 ? await askMissing(storage, ids) : []);
  return files.filter((file, i) => {
    const position = positionOf[i] as number;
    return position < 0 ? early.get(file.sha256)?.stored === false : missing.has(position);
  });
}

/**
 * Positions of the ids whose content the store lacks: asked compactly, or as a JSON list of files
 * of a manager from before the compact question (several managers mid-upgrade).
 */
async function askMissing(storage: StorageClient, ids: readonly HashedFile[]): Promise<number[]> {
  try {
    return (await storage.missingBlobs(ids)).missing;
  } catch (error) {
    if (!(error instanceof ApiError && error.code === 'no_such_endpoint')) throw error;
    const files = ids.map(({ sha256, size }, i) => ({ sha256, size, path: String(i) }));
    return (await storage.missing(files)).missing.map((file) => Number(file.path));
  }
}

/**
 * Uploads files (each distinct content once) and resolves with the bytes stored: small files in
 * batches (many per request, made durable together by the manager), large ones streamed from
 * disk one per request. Each batch is one chunk of work: a pause between chunks holds the upload.
 */
export async function uploadFiles(
  storage: StorageClient,
  root: string,
  files: readonly HashedFile[],
  options: { concurrency?: number; onUploaded?: (bytes: number) => void; gate?: IoGate } = {},
): Promise<number> {
  const gate = options.gate ?? OPEN_GATE;
  const unique = new Map<string, HashedFile>();
  for (const file of files) unique.set(`${file.sha256}/${file.size}`, file);
  const all = [...unique.values()];
  const small = all.filter((file) => file.size <= BATCH_FILE_MAX_BYTES);
  const large = all.filter((file) => file.size > BATCH_FILE_MAX_BYTES);
  const uploaded = { bytes: 0 };
  const count = (bytes: number): void => {
    uploaded.bytes += bytes;
    options.onUploaded?.(bytes);
  };
  await uploadBatches(storage, root, groupIntoBatches(small), count, gate);
  await uploadStreamed(storage, root, large, options.concurrency ?? DEFAULT_CONCURRENCY, count, gate);
  return uploaded.bytes;
}

/** Small files in groups of at most BATCH_BYTES and BATCH_FILES. */
function groupIntoBatches(files: readonly HashedFile[]): HashedFile[][] {
  const batches: HashedFile[][] = [];
  let current: HashedFile[] = [];
  let bytes = 0;
  for (const file of files) {
    if (current.length > 0 && (bytes + file.size > BATCH_BYTES || current.length >= BATCH_FILES)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(file);
    bytes += file.size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/**
 * A few batches in flight: one is read from disk while others travel and are made durable. Each
 * batch is a chunk for the I/O priority gate: none is read or sent while a foreground program holds.
 */
async function uploadBatches(
  storage: StorageClient,
  root: string,
  batches: HashedFile[][],
  count: (bytes: number) => void,
  gate: IoGate,
): Promise<void> {
  await mapLimit(batches, BATCHES_IN_FLIGHT, async (batch) => {
    await gate.ready();
    const contents = await readAll(batch.map((file) => join(root, file.path)));
    const answer = await storage.uploadBatch(batch.map((file, i) => ({ ...idOf(file), bytes: contents[i] as Buffer })));
    count(answer.bytesStored);
  });
}

/** Large files, `concurrency` at a time, each streamed from disk in its own request. */
async function uploadStreamed(
  storage: StorageClient,
  root: string,
  files: readonly HashedFile[],
  concurrency: number,
  count: (bytes: number) => void,
  gate: IoGate,
): Promise<void> {
  const queue = [...files];
  const runOne = async (): Promise<void> => {
    for (let file = queue.shift(); file; file = queue.shift()) {
      const result = await uploadGated(storage, join(root, file.path), file, gate);
      if (result === 'stored') count(file.size);
      else if (result === 'deferred') {
        queue.push(file); // someone else is uploading it: check again at the end
        await sleep(DEFERRED_RETRY_MS);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, runOne));
}

/** Reads small files whole: synchronously in short slices on a fast disk, in parallel on a slow one. */
function readAll(paths: readonly string[]): Promise<Buffer[]> {
  return runFsBatch(
    paths,
    (path) => readFileSync(path),
    (path, _, done) => readFile(path, done),
  );
}

/**
 * One upload, each chunk through the I/O priority gate (nothing is sent while a foreground
 * application holds). A hold that outlasts the transport's silence limit ends the upload; it is
 * sent again once the hold is over.
 */
async function uploadGated(
  storage: StorageClient,
  path: string,
  file: HashedFile,
  gate: IoGate,
): Promise<UploadResult['result']> {
  for (;;) {
    await gate.ready();
    let heldMidway = false;
    const body = createReadStream(path, { highWaterMark: READ_CHUNK });
    const gated = async function* (): AsyncGenerator<Uint8Array> {
      for await (const chunk of body) {
        // Noted before waiting: the transport may give up while we wait.
        if (gate.paused) heldMidway = true;
        await gate.ready();
        yield chunk as Uint8Array;
      }
    };
    try {
      const answer = await storage.upload({ ...file, body: gated() }, { canDefer: true });
      return answer.result;
    } catch (error) {
      if (!heldMidway) throw error;
    } finally {
      body.destroy();
    }
  }
}

export function createShamanCheckout(
  storage: StorageClient,
  checkoutPath: string,
  files: readonly HashedFile[],
): Promise<CheckoutResult> {
  return storage.checkout(checkoutPath, files.map(idOf));
}
