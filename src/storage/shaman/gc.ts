import { lstat, readdir, readlink, rm, rmdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { isErrnoException } from '../../util/errors.js';
import { blobKeyOfPath } from './blob.js';
import { CHECKOUT_TEMP_DIR } from './checkout.js';
import { SHAMAN_DEFAULTS } from './defaults.js';
import { mapLimit } from './limit.js';
import type { ShamanStore } from './store.js';
import type { IoGate } from '../../io/gate.js';

export interface GcOptions {
  /** Blobs (by mtime; a checkout touches its blobs) and leftovers older than this may go. */
  maxAgeMs: number;
  /** Report what would be removed, remove nothing. */
  dryRun?: boolean;
  /** The present, for tests. */
  now?: number;
  /** I/O priority: each removal waits while a foreground application holds. */
  gate?: Pick<IoGate, 'ready'> | undefined;
}

export interface GcReport {
  dryRun: boolean;
  blobsScanned: number;
  /** Distinct stored blobs that at least one checkout links to. */
  blobsReferenced: number;
  /** Unreferenced blobs older than maxAge: removed, or in a dry run to be removed. */
  blobsRemoved: number;
  bytesRemoved: number;
  /** Upload temp files older than maxAge (abandoned uploads). */
  uploadsRemoved: number;
  uploadBytesRemoved: number;
  /** Checkout temp folders older than maxAge (checkouts interrupted by a crash). */
  checkoutTempsRemoved: number;
  /** Dry run only: the blob files that would be removed. */
  wouldRemove: string[];
}

interface FoundFile {
  path: string;
  size: number;
  mtimeMs: number;
}

/**
 * Removes blobs older than `maxAgeMs` that no symlink under `checkoutRoot` points to, upload temp
 * files and interrupted checkout folders older than `maxAgeMs`, and the folders this empties.
 * Links are recognised by their target's last segments, so absolute links and links inside
 * checkouts still being assembled count as references too. Each blob's age is checked again
 * right before it is removed, so one touched by a checkout meanwhile stays.
 */
export async function collectGarbage(
  store: Pick<ShamanStore, 'storedDir' | 'uploadingDir'>,
  checkoutRoot: string,
  options: GcOptions,
): Promise<GcReport> {
  if (!(options.maxAgeMs > 0)) throw new RangeError(`maxAgeMs must be positive, got ${options.maxAgeMs}`);
  const dryRun = options.dryRun ?? false;
  const cutoff = (options.now ?? Date.now()) - options.maxAgeMs;
  const report: GcReport = {
    dryRun,
    blobsScanned: 0,
    blobsReferenced: 0,
    blobsRemoved: 0,
    bytesRemoved: 0,
    uploadsRemoved: 0,
    uploadBytesRemoved: 0,
    checkoutTempsRemoved: 0,
    wouldRemove: [],
  };

  const staleTemps = await findStaleCheckoutTemps(checkoutRoot, cutoff);
  report.checkoutTempsRemoved = staleTemps.length;
  if (!dryRun) await mapLimit(staleTemps, 4, (dir) => rm(dir, { recursive: true, force: true }));
  const referenced = await findReferencedBlobs(checkoutRoot, new Set(staleTemps));

  const blobs = await listLeafFiles(store.storedDir, '.blob');
  report.blobsScanned = blobs.length;
  const garbage: FoundFile[] = [];
  for (const blob of blobs) {
    const key = blobKeyOfPath(blob.path);
    if (key === undefined) continue; // not something the store wrote
    if (referenced.has(key)) report.blobsReferenced++;
    else if (blob.mtimeMs < cutoff) garbage.push(blob);
  }
  await mapLimit(garbage, SHAMAN_DEFAULTS.fsConcurrency, async (blob) => {
    await options.gate?.ready(); // I/O priority: wait while a foreground application holds
    if (dryRun) {
      report.wouldRemove.push(blob.path);
    } else {
      const now = await lstat(blob.path).catch(() => undefined);
      if (!now || now.mtimeMs >= cutoff) return;
      if (!(await removeFile(blob.path))) return;
      await removeEmptyParents(blob.path, 2);
    }
    report.blobsRemoved++;
    report.bytesRemoved += blob.size;
  });
  report.wouldRemove.sort();

  const uploads = (await listLeafFiles(store.uploadingDir, '.tmp')).filter((file) => file.mtimeMs < cutoff);
  await mapLimit(uploads, SHAMAN_DEFAULTS.fsConcurrency, async (file) => {
    if (!dryRun) {
      if (!(await removeFile(file.path))) return;
      await removeEmptyParents(file.path, 2);
    }
    report.uploadsRemoved++;
    report.uploadBytesRemoved += file.size;
  });
  return report;
}

/** Blob keys of every symlink under the checkout root, skipping the given folders. */
async function findReferencedBlobs(checkoutRoot: string, skip: ReadonlySet<string>): Promise<Set<string>> {
  const keys = new Set<string>();
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch((error: unknown) => {
      if (isErrnoException(error, 'ENOENT') || isErrnoException(error, 'ENOTDIR')) return [];
      throw error;
    });
    const links = entries.filter((entry) => entry.isSymbolicLink()).map((entry) => join(dir, entry.name));
    const targets = await mapLimit(links, SHAMAN_DEFAULTS.fsConcurrency, (link) => readlink(link).catch(() => ''));
    for (const target of targets) {
      const key = blobKeyOfPath(target);
      if (key) keys.add(key);
    }
    const folders = entries.filter((entry) => entry.isDirectory()).map((entry) => join(dir, entry.name));
    await mapLimit(
      folders.filter((folder) => !skip.has(folder)),
      8,
      walk,
    );
  };
  await walk(checkoutRoot);
  return keys;
}

async function findStaleCheckoutTemps(checkoutRoot: string, cutoff: number): Promise<string[]> {
  const dir = join(checkoutRoot, CHECKOUT_TEMP_DIR);
  const names = await readdir(dir).catch(() => [] as string[]);
  const stale: string[] = [];
  for (const name of names) {
    const info = await lstat(join(dir, name)).catch(() => undefined);
    if (info && info.mtimeMs < cutoff) stale.push(join(dir, name));
  }
  return stale;
}

/** Files ending in `suffix` at depth 3 (`<2 hex>/<62 hex>/<file>`) below `base`. */
async function listLeafFiles(base: string, suffix: string): Promise<FoundFile[]> {
  const found: FoundFile[] = [];
  const heads = await readdir(base).catch(() => [] as string[]);
  await mapLimit(heads, 8, async (head) => {
    const rests = await readdir(join(base, head)).catch(() => [] as string[]);
    await mapLimit(rests, 8, async (rest) => {
      const dir = join(base, head, rest);
      const names = await readdir(dir).catch(() => [] as string[]);
      for (const name of names) {
        if (!name.endsWith(suffix)) continue;
        const path = join(dir, name);
        const info = await lstat(path).catch(() => undefined);
        if (info?.isFile()) found.push({ path, size: info.size, mtimeMs: info.mtimeMs });
      }
    });
  });
  return found;
}

async function removeFile(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (error) {
    if (isErrnoException(error, 'ENOENT')) return false;
    throw error;
  }
}

/** Removes up to `levels` parent folders while they are empty. */
async function removeEmptyParents(path: string, levels: number): Promise<void> {
  let dir = path;
  for (let i = 0; i < levels; i++) {
    dir = join(dir, '..');
    try {
      await rmdir(dir);
    } catch {
      return;
    }
  }
}
