import { createHash, randomBytes } from 'node:crypto';
import {
  mkdir as mkdirCallback,
  mkdirSync,
  rename as renameCallback,
  renameSync,
  rmSync,
  statSync,
  stat as statCallback,
  writeFile as writeFileCallback,
  writeFileSync,
} from 'node:fs';
import { mkdir, rm, rmdir } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { blobKey, blobSubpath, checkBlobId } from './blob.js';
import { fsyncAll, syncFileSystem } from './durable.js';
import { BlobMismatchError } from './errors.js';
import { runFsBatch } from './limit.js';

/** One small file of a batch upload, its bytes in memory. `path` only names it in errors. */
export interface BatchBlob {
  sha256: string;
  size: number;
  path?: string;
  bytes: Uint8Array;
}

export interface BatchResult {
  /** Distinct contents written into the store by this batch. */
  stored: number;
  /** Files whose content was there already (or came twice in the batch). */
  alreadyStored: number;
  bytesStored: number;
}

/** Where batch uploads write their temp files: `<uploading>/batches/<batch id>/<n>.tmp` (GC reads depth 3). */
const BATCHES_DIR = 'batches';

interface Planned {
  sha256: string;
  size: number;
  bytes: Uint8Array;
  temp: string;
  target: string;
}

/**
 * Stores a batch of small blobs with one durability barrier for all of them, keeping the
 * single upload's guarantee: no torn or wrong blob is ever visible, also after a crash.
 *  1. every file's size and SHA-256 are checked first; one mismatch refuses the whole batch
 *     (BlobMismatchError naming `files[i]` and its path), and nothing is written;
 *  2. the contents not stored yet are written to temp files under `uploading/batches/`;
 *  3. their data is made durable at once (syncfs; else an fsync per file, many in parallel);
 *  4. each is renamed into place (atomic; the content is complete and durable by then);
 *  5. the renames are made durable (syncfs again; else an fsync per folder changed).
 * A failure half-way leaves some blobs stored (each complete) and removes every temp file.
 */
export async function storeBatch(
  store: { root: string; storedDir: string; uploadingDir: string },
  blobs: readonly BatchBlob[],
  options: { durable: boolean },
): Promise<BatchResult> {
  const planned = verifyBatch(store.storedDir, blobs);
  const present = await runFsBatch(
    planned,
    (blob) => isFileSync(blob.target),
    (blob, _, done) => statCallback(blob.target, (error, info) => done(null, !error && info.isFile())),
  );
  const todo = planned.filter((_, i) => !present[i]);
  const result = { stored: todo.length, alreadyStored: blobs.length - todo.length, bytesStored: 0 };
  if (todo.length === 0) return result;
  const batchDir = join(store.uploadingDir, BATCHES_DIR, randomBytes(8).toString('hex'));
  await mkdir(batchDir, { recursive: true });
  try {
    todo.forEach((blob, i) => {
      blob.temp = `${batchDir}${sep}${i}.tmp`;
    });
    // Read-only from birth: the open descriptor may still write, nobody else can.
    await runFsBatch(
      todo,
      (blob) => writeFileSync(blob.temp, blob.bytes, { mode: 0o444, flag: 'wx' }),
      (blob, _, done) => writeFileCallback(blob.temp, blob.bytes, { mode: 0o444, flag: 'wx' }, done),
    );
    if (options.durable && !(await syncFileSystem(store.root))) await fsyncAll(todo.map((blob) => blob.temp));
    await runFsBatch(todo, (blob) => moveIntoStoreSync(blob), moveIntoStoreAsync);
    if (options.durable && !(await syncFileSystem(store.root))) {
      const folders = new Set(todo.flatMap((blob) => [dirname(blob.target), dirname(dirname(blob.target))]));
      await fsyncAll([...folders, store.storedDir]);
    }
    result.bytesStored = todo.reduce((sum, blob) => sum + blob.size, 0);
    return result;
  } finally {
    // Empty unless something failed; a crash's leftovers go with garbage collection.
    await rmdir(batchDir).catch(() => rm(batchDir, { recursive: true, force: true }));
  }
}

/** Checks every file of a batch against its announced size and SHA-256; returns the distinct contents. */
function verifyBatch(storedDir: string, blobs: readonly BatchBlob[]): Planned[] {
  const distinct = new Map<string, Planned>();
  blobs.forEach((blob, i) => {
    const field = `files[${i}]`;
    const sha256 = checkBlobId(blob.sha256, blob.size, field);
    const at = { field, path: blob.path };
    if (blob.bytes.byteLength !== blob.size)
      throw new BlobMismatchError('size_mismatch', { sha256, size: blob.size }, { size: blob.bytes.byteLength }, at);
    const digest = createHash('sha256').update(blob.bytes).digest('hex');
    if (digest !== sha256)
      throw new BlobMismatchError(
        'checksum_mismatch',
        { sha256, size: blob.size },
        { sha256: digest, size: blob.size },
        at,
      );
    const key = blobKey(sha256, blob.size);
    if (!distinct.has(key)) {
      const target = `${storedDir}${sep}${blobSubpath(sha256, blob.size)}`;
      distinct.set(key, { sha256, size: blob.size, bytes: blob.bytes, temp: '', target });
    }
  });
  return [...distinct.values()];
}

/**
 * rename(2) into `stored/`, making the two folder levels first. ENOENT once more: garbage
 * collection removed an emptied folder in between. EEXIST/ENOTEMPTY: platforms that refuse to
 * rename over a file, where the same content won the race.
 */
function moveIntoStoreSync(blob: Planned): void {
  for (let attempt = 1; ; attempt++) {
    mkdirSync(dirname(blob.target), { recursive: true });
    try {
      renameSync(blob.temp, blob.target);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && attempt < 5) continue;
      if (!isFileSync(blob.target)) throw error;
      rmSync(blob.temp, { force: true });
      return;
    }
  }
}

function moveIntoStoreAsync(blob: Planned, _: number, done: (error: NodeJS.ErrnoException | null) => void): void {
  const attempt = (n: number): void =>
    mkdirCallback(dirname(blob.target), { recursive: true }, (mkdirError) => {
      if (mkdirError) return done(mkdirError);
      renameCallback(blob.temp, blob.target, (error) => {
        if (!error) return done(null);
        if (error.code === 'ENOENT' && n < 5) return attempt(n + 1);
        if (!isFileSync(blob.target)) return done(error);
        rmSync(blob.temp, { force: true });
        done(null);
      });
    });
  attempt(1);
}

function isFileSync(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
  } catch {
    return false;
  }
}
