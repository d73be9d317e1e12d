import { createHash, randomBytes } from 'node:crypto';
import { stat as statCallback, statSync, utimes as utimesCallback, utimesSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { isErrnoException } from '../../util/errors.js';
import { blobKey, blobSubpath, checkBlobId, type BlobId, type ShamanFile } from './blob.js';
import { MiB, SHAMAN_DEFAULTS } from './defaults.js';
import { BlobMismatchError } from './errors.js';
import { runFsBatch } from './limit.js';
import { storeBatch, type BatchBlob, type BatchResult } from './batch.js';

export type BlobStatus = 'stored' | 'uploading' | 'unknown';
export type ReceiveResult = 'stored' | 'already-stored' | 'deferred';

export interface ShamanStoreOptions {
  /** See SHAMAN_DEFAULTS.uploadLiveMs. */
  uploadLiveMs?: number;
  /** fsync each blob before it enters the store (default true): a crash never leaves a torn blob. */
  fsync?: boolean;
}

export interface ReceiveOptions {
  /**
   * When the same blob is being uploaded already (by this process, or recently written to by
   * another one on the same storage), return 'deferred' without reading `source`.
   */
  deferIfUploading?: boolean;
}

/** What an upload's body may be: a Node stream (an HTTP request) or any async iterable of bytes. */
export type BlobSource = Readable | AsyncIterable<Uint8Array | string>;

const WRITE_BATCH_BYTES = 1 * MiB;

/**
 * The content-addressed store: `<root>/stored/<2 hex>/<62 hex>/<size>.blob`, uploads in progress
 * under `<root>/uploading/` with the same layout and a unique `<size>-<random>.tmp` name each.
 * A blob enters `stored/` only by an atomic rename after its SHA-256 and size were verified.
 * Blobs are made read-only, so a job writing through a checkout symlink cannot change them.
 */
export class ShamanStore {
  readonly root: string;
  readonly storedDir: string;
  readonly uploadingDir: string;
  readonly #uploadLiveMs: number;
  readonly #fsync: boolean;
  /** Uploads running in this process, by blob key. */
  readonly #receiving = new Map<string, number>();

  constructor(root: string, options: ShamanStoreOptions = {}) {
    this.root = resolve(root);
    this.storedDir = join(this.root, 'stored');
    this.uploadingDir = join(this.root, 'uploading');
    this.#uploadLiveMs = options.uploadLiveMs ?? SHAMAN_DEFAULTS.uploadLiveMs;
    this.#fsync = options.fsync ?? true;
  }

  /** Where a blob lives (whether or not it is there). */
  blobPath(sha256: string, size: number): string {
    return `${this.storedDir}${sep}${blobSubpath(checkBlobId(sha256, size), size)}`;
  }

  async status(sha256: string, size: number): Promise<BlobStatus> {
    const sha = checkBlobId(sha256, size);
    if (await isFile(this.blobPath(sha, size))) return 'stored';
    return this.#isReceiving(sha, size) || (await this.#hasLiveUpload(sha, size)) ? 'uploading' : 'unknown';
  }

  /** The files whose content is not stored yet (uploads in progress count as missing), in input order. */
  async missing<F extends ShamanFile>(files: readonly F[]): Promise<F[]> {
    const keys = files.map((file, i) => blobKey(checkBlobId(file.sha256, file.size, `files[${i}]`), file.size));
    const distinct = [...new Set(keys)];
    const present = await this.storedMany(
      distinct.map((key) => {
        const [sha256, size] = key.split('/') as [string, string];
        return { sha256, size: Number(size) };
      }),
    );
    const stored = new Set(distinct.filter((_, i) => present[i]));
    return files.filter((_, i) => !stored.has(keys[i] as string));
  }

  /**
   * For each blob (ids already checked: lower-case hex), whether it is stored, in order. Asks the
   * file system each time (one stat per blob): nothing is remembered, so a blob removed by garbage
   * collection, by another manager or by hand is never reported present. Uploads in progress are
   * not stored.
   */
  storedMany(ids: readonly BlobId[]): Promise<boolean[]> {
    const prefix = this.storedDir + sep;
    return runFsBatch(
      ids.map(({ sha256, size }) => prefix + blobSubpath(sha256, size)),
      (path) => isFileSync(path),
      (path, _, done) => statCallback(path, (error, info) => done(null, !error && info.isFile())),
    );
  }

  /**
   * Stores the bytes of `source` as blob (sha256, size), hashing while they arrive.
   * Throws BlobMismatchError (nothing kept) when the bytes do not match; reading stops as soon as
   * more than `size` bytes came, and the rest of `source` is left for the caller to drain or close.
   * Concurrent uploads of one blob are safe: each writes its own temp file, the renames are atomic.
   */
  async receive(
    sha256: string,
    size: number,
    source: BlobSource,
    options: ReceiveOptions = {},
  ): Promise<ReceiveResult> {
    const sha = checkBlobId(sha256, size);
    const target = this.blobPath(sha, size);
    if (await isFile(target)) {
      await drain(source);
      return 'already-stored';
    }
    // Checked and marked without an await in between, so two calls in this process cannot both miss each other.
    if (options.deferIfUploading && this.#isReceiving(sha, size)) return 'deferred';
    const key = blobKey(sha, size);
    this.#receiving.set(key, (this.#receiving.get(key) ?? 0) + 1);
    try {
      if (options.deferIfUploading && (await this.#hasLiveUpload(sha, size))) return 'deferred';
      await this.#writeBlob(sha, size, source, target);
      return 'stored';
    } finally {
      const left = (this.#receiving.get(key) ?? 1) - 1;
      if (left > 0) this.#receiving.set(key, left);
      else this.#receiving.delete(key);
    }
  }

  /**
   * Stores many small blobs at once, verified first, made durable together (see storeBatch).
   * Throws BlobMismatchError naming the file when one does not match: nothing is kept then.
   */
  async receiveBatch(blobs: readonly BatchBlob[]): Promise<BatchResult> {
    const keys = blobs.map((blob) => blobKey(String(blob.sha256).toLowerCase(), blob.size));
    for (const key of keys) this.#receiving.set(key, (this.#receiving.get(key) ?? 0) + 1);
    try {
      return await storeBatch(this, blobs, { durable: this.#fsync });
    } finally {
      for (const key of keys) {
        const left = (this.#receiving.get(key) ?? 1) - 1;
        if (left > 0) this.#receiving.set(key, left);
        else this.#receiving.delete(key);
      }
    }
  }

  /**
   * Sets a blob's mtime to now, so garbage collection counts it as recently used.
   * Returns false when the blob is not stored.
   */
  async touch(sha256: string, size: number, now = new Date()): Promise<boolean> {
    const [present] = await this.touchMany([{ sha256, size }], now);
    return present ?? false;
  }

  /**
   * touch() for many blobs, one boolean per blob in order; run like runFsBatch (synchronous in
   * short slices on a fast disk, in parallel on a slow network file system).
   */
  touchMany(blobs: readonly BlobId[], now = new Date()): Promise<boolean[]> {
    const paths = blobs.map(
      (blob, i) =>
        `${this.storedDir}${sep}${blobSubpath(checkBlobId(blob.sha256, blob.size, `files[${i}]`), blob.size)}`,
    );
    // ENOENT: not stored. EPERM/EACCES: owned by another account (several managers on one
    // storage): the age stays, but it is there if it can be statted.
    const outcome = (error: NodeJS.ErrnoException): 'missing' | 'check' => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return 'missing';
      if (error.code === 'EPERM' || error.code === 'EACCES') return 'check';
      throw error;
    };
    return runFsBatch(
      paths,
      (path) => {
        try {
          utimesSync(path, now, now);
          return true;
        } catch (error) {
          return outcome(error as NodeJS.ErrnoException) === 'check' && isFileSync(path);
        }
      },
      (path, _, done) =>
        utimesCallback(path, now, now, (error) => {
          if (!error) return done(null, true);
          let next: 'missing' | 'check';
          try {
            next = outcome(error);
          } catch {
            return done(error);
          }
          if (next === 'missing') return done(null, false);
          statCallback(path, (statError, info) => done(null, !statError && info.isFile()));
        }),
    );
  }

  /** True while this process is receiving the blob. */
  #isReceiving(sha: string, size: number): boolean {
    return this.#receiving.has(blobKey(sha, size));
  }

  /** An upload temp file of this blob that was written to recently (possibly by another process). */
  async #hasLiveUpload(sha: string, size: number): Promise<boolean> {
    const dir = join(this.uploadingDir, sha.slice(0, 2), sha.slice(2));
    const names = await readdir(dir).catch(() => [] as string[]);
    const since = Date.now() - this.#uploadLiveMs;
    for (const name of names) {
      if (!name.startsWith(`${size}-`) || !name.endsWith('.tmp')) continue;
      const info = await stat(join(dir, name)).catch(() => undefined);
      if (info && info.mtimeMs >= since) return true;
    }
    return false;
  }

  async #writeBlob(sha: string, size: number, source: BlobSource, target: string): Promise<void> {
    const dir = join(this.uploadingDir, sha.slice(0, 2), sha.slice(2));
    await mkdir(dir, { recursive: true });
    const temp = join(dir, `${size}-${randomBytes(8).toString('hex')}.tmp`);
    const handle = await open(temp, 'wx', 0o644);
    let open_ = true;
    try {
      const hash = createHash('sha256');
      let received = 0;
      let batch: Buffer[] = [];
      let batchBytes = 0;
      for await (const chunk of iterate(source)) {
        const bytes =
          typeof chunk === 'string'
            ? Buffer.from(chunk)
            : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        received += bytes.length;
        if (received > size) throw new BlobMismatchError('size_mismatch', { sha256: sha, size }, { size: received });
        hash.update(bytes);
        batch.push(bytes);
        batchBytes += bytes.length;
        if (batchBytes >= WRITE_BATCH_BYTES) {
          await writeAll(handle, batch);
          batch = [];
          batchBytes = 0;
        }
      }
      await writeAll(handle, batch);
      if (received !== size) throw new BlobMismatchError('size_mismatch', { sha256: sha, size }, { size: received });
      const digest = hash.digest('hex');
      if (digest !== sha)
        throw new BlobMismatchError('checksum_mismatch', { sha256: sha, size }, { sha256: digest, size: received });
      if (this.#fsync) await handle.sync();
      await handle.chmod(0o444);
      open_ = false;
      await handle.close();
      await moveIntoStore(temp, target);
    } catch (error) {
      if (open_) await handle.close().catch(() => undefined);
      await rm(temp, { force: true });
      throw error;
    }
  }
}

async function moveIntoStore(temp: string, target: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await mkdir(dirname(target), { recursive: true });
    try {
      await rename(temp, target);
      return;
    } catch (error) {
      // Garbage collection may remove an empty folder between the mkdir and the rename.
      if (isErrnoException(error, 'ENOENT') && attempt < 5) continue;
      // Platforms that refuse to rename over an existing file: the same content won the race.
      if (await isFile(target)) {
        await rm(temp, { force: true });
        return;
      }
      throw error;
    }
  }
}

async function writeAll(handle: FileHandle, buffers: Buffer[]): Promise<void> {
  const pending = buffers.filter((buffer) => buffer.length > 0);
  while (pending.length > 0) {
    let { bytesWritten } = await handle.writev(pending);
    // A short write: drop what was written and go on with the rest.
    let head = pending[0];
    while (head && bytesWritten >= head.length) {
      bytesWritten -= head.length;
      pending.shift();
      head = pending[0];
    }
    if (head && bytesWritten > 0) pending[0] = head.subarray(bytesWritten);
  }
}

/** Iterates a source without destroying it when the loop stops early. */
function iterate(source: BlobSource): AsyncIterable<Uint8Array | string> {
  return source instanceof Readable ? source.iterator({ destroyOnReturn: false }) : source;
}

/** Reads and discards the rest of a source. */
async function drain(source: BlobSource): Promise<void> {
  if (source instanceof Readable) {
    if (source.readableEnded || source.destroyed) return;
    source.resume();
    await finished(source);
    return;
  }
  for await (const _ of source) void _;
}

function isFileSync(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
  } catch {
    return false;
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
