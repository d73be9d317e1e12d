import { readFile } from 'node:fs/promises';
import { sep } from 'node:path';
import { isErrnoException } from '../../util/errors.js';
import { writeFileAtomic } from '../../util/fs.js';
import { DAY } from '../../util/time.js';
import { SHAMAN_DEFAULTS } from './defaults.js';

/** [size, mtimeMs, sha256, last used (ms since epoch)] */
type CacheEntry = [number, number, string, number];

interface CacheFile {
  version: 1;
  entries: Record<string, CacheEntry>;
}

export interface HashCacheOptions {
  /** Entries kept when saving; the least recently used go first. */
  maxEntries?: number;
}

/**
 * The client's memory of earlier hashes, keyed by absolute path and valid while the file's size
 * and mtime are unchanged. Persisted as one JSON file, written atomically; a missing or damaged
 * file is an empty cache (it only costs a re-hash).
 */
export class HashCache {
  readonly #entries: Map<string, CacheEntry>;
  readonly #maxEntries: number;
  #dirty = false;

  private constructor(
    readonly file: string,
    entries: Map<string, CacheEntry>,
    options: HashCacheOptions,
  ) {
    this.#entries = entries;
    this.#maxEntries = options.maxEntries ?? SHAMAN_DEFAULTS.hashCacheMaxEntries;
  }

  static async load(file: string, options: HashCacheOptions = {}): Promise<HashCache> {
    const entries = new Map<string, CacheEntry>();
    let text: string | undefined;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if (!isErrnoException(error, 'ENOENT')) throw error;
    }
    if (text !== undefined) {
      try {
        const parsed = JSON.parse(text) as Partial<CacheFile>;
        if (parsed.version === 1 && parsed.entries && typeof parsed.entries === 'object') {
          for (const [path, entry] of Object.entries(parsed.entries)) if (isEntry(entry)) entries.set(path, entry);
        }
      } catch {
        // a damaged cache is an empty one
      }
    }
    return new HashCache(file, entries, options);
  }

  /** An empty cache that will be saved to `file`. */
  static empty(file: string, options: HashCacheOptions = {}): HashCache {
    return new HashCache(file, new Map(), options);
  }

  get size(): number {
    return this.#entries.size;
  }

  get dirty(): boolean {
    return this.#dirty;
  }

  /** The SHA-256 recorded for this absolute path, if its size and mtime still match. */
  get(path: string, size: number, mtimeMs: number, now = Date.now()): string | undefined {
    const entry = this.#entries.get(path);
    if (!entry || entry[0] !== size || entry[1] !== mtimeMs) return undefined;
    // Recency only matters for eviction, so a day's precision spares rewriting the file each run.
    if (now - entry[3] > DAY) {
      entry[3] = now;
      this.#dirty = true;
    }
    return entry[2];
  }

  set(path: string, size: number, mtimeMs: number, sha256: string, now = Date.now()): void {
    const entry = this.#entries.get(path);
    if (entry && entry[0] === size && entry[1] === mtimeMs && entry[2] === sha256) return;
    this.#entries.set(path, [size, mtimeMs, sha256, now]);
    this.#dirty = true;
  }

  /**
   * The distinct contents recorded for files under `folder` (absolute), by SHA-256, as they were
   * when last hashed: what a tree held last time, known before it is listed again. (Keyed by the
   * checksum alone, a string the cache holds already; one size per checksum, the first found.)
   */
  contentsUnder(folder: string): Map<string, { sha256: string; size: number }> {
    const prefix = folder.endsWith(sep) ? folder : folder + sep;
    const contents = new Map<string, { sha256: string; size: number }>();
    for (const [path, [size, , sha256]] of this.#entries) {
      if (path.startsWith(prefix) && !contents.has(sha256)) contents.set(sha256, { sha256, size });
    }
    return contents;
  }

  delete(path: string): void {
    if (this.#entries.delete(path)) this.#dirty = true;
  }

  /** Writes the cache if it changed (atomically: readers see the old or the new file). */
  async save(): Promise<void> {
    if (!this.#dirty) return;
    if (this.#entries.size > this.#maxEntries) {
      const byAge = [...this.#entries].sort((a, b) => b[1][3] - a[1][3]);
      this.#entries.clear();
      for (const [path, entry] of byAge.slice(0, this.#maxEntries)) this.#entries.set(path, entry);
    }
    const data: CacheFile = { version: 1, entries: Object.fromEntries(this.#entries) };
    await writeFileAtomic(this.file, JSON.stringify(data), 0o600);
    this.#dirty = false;
  }
}

function isEntry(value: unknown): value is CacheEntry {
  return (
    Array.isArray(value) &&
    value.length === 4 &&
    typeof value[0] === 'number' &&
    typeof value[1] === 'number' &&
    typeof value[2] === 'string' &&
    value[2].length === 64 &&
    typeof value[3] === 'number'
  );
}
