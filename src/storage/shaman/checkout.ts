import { randomBytes } from 'node:crypto';
import { symlink as symlinkCallback, symlinkSync } from 'node:fs';
import { lstat, mkdir, readdir, realpath, rename, rm, rmdir } from 'node:fs/promises';
import { dirname, join, posix, relative, sep } from 'node:path';
import { isErrnoException } from '../../util/errors.js';
import { blobKey, blobSubpath, checkBlobId, type ShamanFile } from './blob.js';
import { SHAMAN_DEFAULTS } from './defaults.js';
import { InvalidCheckoutPathError, MissingBlobsError } from './errors.js';
import { mapLimit, runFsBatch } from './limit.js';
import { RESERVED_PREFIX, checkCheckoutPath, checkRelativePath } from './relative-path.js';
import type { ShamanStore } from './store.js';
import type { IoGate } from '../../io/gate.js';

/** Where checkouts are assembled before they are renamed into place, under the checkout root. */
export const CHECKOUT_TEMP_DIR = `${RESERVED_PREFIX}-tmp`;

export interface CheckoutResult {
  /** The checkout's path relative to the checkout root: the requested one, or it with `-1`, `-2`... */
  path: string;
  files: number;
  /** Distinct blobs the checkout links to. */
  blobs: number;
}

const MAX_SUFFIX = 10_000;

/**
 * Creates a job folder `<checkoutRoot>/<requestedPath>` of relative symlinks into the store, one per
 * file. Validates every path first (InvalidCheckoutPathError, 400), then checks that every blob is
 * stored while touching it for garbage collection (MissingBlobsError, 424; nothing is created).
 * The tree is built in a temp folder and renamed into place in one step; when the requested folder
 * exists, `-1`, `-2`... is appended to its last name.
 */
export async function createCheckout(
  store: Pick<ShamanStore, 'storedDir' | 'touchMany'>,
  checkoutRoot: string,
  requestedPath: string,
  files: readonly ShamanFile[],
  options: { gate?: Pick<IoGate, 'ready'> | undefined } = {},
): Promise<CheckoutResult> {
  const wanted = checkCheckoutPath(requestedPath);
  const entries = checkFiles(files);

  const blobs = new Map<string, { sha256: string; size: number }>();
  for (const entry of entries) blobs.set(blobKey(entry.sha256, entry.size), entry);
  const present = await store.touchMany([...blobs.values()]);
  const missingKeys = new Set([...blobs.keys()].filter((_, i) => !present[i]));
  if (missingKeys.size > 0) {
    throw new MissingBlobsError(entries.filter((entry) => missingKeys.has(blobKey(entry.sha256, entry.size))));
  }

  await mkdir(checkoutRoot, { recursive: true });
  await mkdir(store.storedDir, { recursive: true }); // a first, empty checkout has no blobs yet
  const root = await realpath(checkoutRoot);
  const stored = await realpath(store.storedDir);
  await refuseNestedCheckout(root, wanted);
  const temp = join(root, CHECKOUT_TEMP_DIR, randomBytes(8).toString('hex'));
  const finalBase = join(root, ...wanted.split('/'));
  let reserved: string | undefined;
  try {
    await mkdir(temp, { recursive: true });
    await makeFolders(temp, entries);
    // Link targets are computed for the final location; a `-N` suffix does not change the depth.
    // Strings are concatenated rather than joined: this runs once per file.
    const toStore = new Map<string, string>();
    const links = entries.map((entry) => {
      const folder = posix.dirname(entry.path);
      let prefix = toStore.get(folder);
      if (prefix === undefined) {
        prefix = relative(join(finalBase, ...folder.split('/')), stored) + sep;
        toStore.set(folder, prefix);
      }
      return { target: prefix + blobSubpath(entry.sha256, entry.size), path: temp + sep + toNative(entry.path) };
    });
    await makeLinks(links, options.gate);
    reserved = await reserveFolder(finalBase, wanted);
    await moveOnto(temp, reserved);
    const actual = relative(root, reserved).split(sep).join('/');
    reserved = undefined;
    return { path: actual, files: entries.length, blobs: blobs.size };
  } finally {
    // Only reached with work left over when something failed.
    await rm(temp, { recursive: true, force: true });
    if (reserved) await rmdir(reserved).catch(() => undefined);
  }
}

/** Links made per chunk: a pause between chunks (background I/O held) stops the checkout there. */
const LINK_CHUNK = 2_500;

/**
 * One symlink per file, a chunk at a time; each chunk like runFsBatch (synchronous in short slices
 * on a fast disk, where that is cheapest; through the thread pool, in parallel, on a slow one).
 */
async function makeLinks(
  links: ReadonlyArray<{ target: string; path: string }>,
  gate: Pick<IoGate, 'ready'> | undefined,
): Promise<void> {
  for (let start = 0; start < links.length; start += LINK_CHUNK) {
    await gate?.ready(); // I/O priority: wait while a foreground application holds
    await runFsBatch(
      links.slice(start, start + LINK_CHUNK),
      (link) => symlinkSync(link.target, link.path, 'file'),
      (link, _, done) => symlinkCallback(link.target, link.path, 'file', done),
    );
  }
}

/**
 * Removes the checkout at `path` (validated like createCheckout's) and the folders above it that
 * became empty. The folder is first moved aside, so no half-deleted checkout is ever seen.
 * Returns false when there was nothing at that path.
 */
export async function deleteCheckout(checkoutRoot: string, path: string): Promise<boolean> {
  const wanted = checkCheckoutPath(path, 'path');
  let root: string;
  try {
    root = await realpath(checkoutRoot);
  } catch (error) {
    if (isErrnoException(error, 'ENOENT')) return false;
    throw error;
  }
  const target = join(root, ...wanted.split('/'));
  try {
    await lstat(target);
  } catch (error) {
    if (isErrnoException(error, 'ENOENT') || isErrnoException(error, 'ENOTDIR')) return false;
    throw error;
  }
  const trash = join(root, CHECKOUT_TEMP_DIR, `${randomBytes(8).toString('hex')}-deleted`);
  await mkdir(dirname(trash), { recursive: true });
  try {
    await rename(target, trash);
  } catch (error) {
    if (isErrnoException(error, 'ENOENT')) return false; // deleted by someone else meanwhile
    throw error;
  }
  await rm(trash, { recursive: true, force: true });
  for (let folder = dirname(target); folder !== root && folder.startsWith(root + sep); folder = dirname(folder)) {
    try {
      await rmdir(folder);
    } catch {
      break; // not empty, or gone
    }
  }
  return true;
}

/**
 * A checkout inside another would put one job's files among another's, and deleting the outer
 * job would delete the inner one's. A folder above the wanted path that directly holds a link
 * into the store is a checkout. (A checkout whose top level holds only folders is recognised
 * from any of its folders that holds a link.)
 */
async function refuseNestedCheckout(root: string, wanted: string): Promise<void> {
  const segments = wanted.split('/');
  for (let depth = 1; depth < segments.length; depth++) {
    const above = segments.slice(0, depth).join('/');
    const entries = await readdir(join(root, ...segments.slice(0, depth)), { withFileTypes: true }).catch(
      () => undefined,
    );
    if (!entries) return; // it does not exist, so nothing below it does either
    if (entries.some((entry) => entry.isSymbolicLink())) {
      throw new InvalidCheckoutPathError(
        wanted,
        `it is inside the checkout "${above}"; a checkout cannot hold another`,
        'checkoutPath',
      );
    }
  }
}

const toNative = sep === '/' ? (path: string): string => path : (path: string): string => path.replaceAll('/', sep);

interface CheckedFile {
  sha256: string;
  size: number;
  path: string;
}

/** Validates ids and paths; refuses one path with two contents and a file where a folder must be. */
function checkFiles(files: readonly ShamanFile[]): CheckedFile[] {
  const byPath = new Map<string, CheckedFile>();
  files.forEach((file, i) => {
    const sha256 = checkBlobId(file.sha256, file.size, `files[${i}]`);
    const path = checkRelativePath(file.path, `files[${i}].path`);
    const earlier = byPath.get(path);
    if (earlier && (earlier.sha256 !== sha256 || earlier.size !== file.size)) {
      throw new InvalidCheckoutPathError(path, 'it is listed twice with different content', `files[${i}].path`);
    }
    byPath.set(path, { sha256, size: file.size, path });
  });
  const folders = new Set<string>();
  for (const path of byPath.keys()) {
    for (let folder = posix.dirname(path); folder !== '.'; folder = posix.dirname(folder)) {
      if (folders.has(folder)) break;
      folders.add(folder);
    }
  }
  for (const path of byPath.keys()) {
    if (folders.has(path)) throw new InvalidCheckoutPathError(path, 'it is both a file and a folder', 'files');
  }
  return [...byPath.values()];
}

/** Creates every folder the files need, parents before children, one level at a time. */
async function makeFolders(base: string, entries: readonly CheckedFile[]): Promise<void> {
  const levels: string[][] = [];
  const seen = new Set<string>();
  for (const entry of entries) {
    for (let folder = posix.dirname(entry.path); folder !== '.' && !seen.has(folder); folder = posix.dirname(folder)) {
      seen.add(folder);
      const depth = folder.split('/').length - 1;
      const level = levels[depth];
      if (level) level.push(folder);
      else levels[depth] = [folder];
    }
  }
  for (const level of levels) {
    if (level)
      await mapLimit(level, SHAMAN_DEFAULTS.fsConcurrency, (folder) => mkdir(join(base, ...folder.split('/'))));
  }
}

/**
 * Claims the first free name of `base`, `base-1`, `base-2`... by creating it as an empty folder,
 * which is atomic: two checkouts asking for one name at once get different ones.
 */
async function reserveFolder(base: string, wanted: string): Promise<string> {
  try {
    await mkdir(dirname(base), { recursive: true });
  } catch (error) {
    if (isErrnoException(error, 'EEXIST') || isErrnoException(error, 'ENOTDIR')) {
      throw new InvalidCheckoutPathError(wanted, 'a file is in the way of one of its folders', 'checkoutPath');
    }
    throw error;
  }
  for (let n = 0; n <= MAX_SUFFIX; n++) {
    const candidate = n === 0 ? base : `${base}-${n}`;
    try {
      await mkdir(candidate);
      return candidate;
    } catch (error) {
      if (!isErrnoException(error, 'EEXIST')) throw error;
    }
  }
  throw new InvalidCheckoutPathError(wanted, `it and ${MAX_SUFFIX} suffixed variants exist already`, 'checkoutPath');
}

/** Renames a folder onto an empty one (atomic on POSIX); elsewhere removes the empty one first. */
async function moveOnto(from: string, emptyTarget: string): Promise<void> {
  try {
    await rename(from, emptyTarget);
  } catch (error) {
    if (
      !isErrnoException(error, 'EEXIST') &&
      !isErrnoException(error, 'ENOTEMPTY') &&
      !isErrnoException(error, 'EPERM')
    )
      throw error;
    await rmdir(emptyTarget);
    await rename(from, emptyTarget);
  }
}
