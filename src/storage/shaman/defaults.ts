import { DAY, MINUTE } from '../../util/time.js';

export const MiB = 1024 * 1024;

export const SHAMAN_DEFAULTS = Object.freeze({
  /** Unreferenced blobs, and upload leftovers, older than this are garbage (Flamenco uses 31 days too). */
  gcMaxAgeMs: 31 * DAY,
  /**
   * An upload temp file written to within this time counts as an upload in progress, also for
   * other managers sharing the storage. A live upload keeps its file's mtime fresh.
   */
  uploadLiveMs: 2 * MINUTE,
  /** Read size of the hashers; large reads keep SHA-256, not system calls, the bottleneck. */
  readChunkBytes: 1 * MiB,
  /** Concurrent file-system operations when statting, linking or touching many files. */
  fsConcurrency: 64,
  /** Entries a client's hash cache keeps; the least recently used go first. */
  hashCacheMaxEntries: 500_000,
});
