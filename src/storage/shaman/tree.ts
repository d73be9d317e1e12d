import type { Dirent } from 'node:fs';
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { UserError, isErrnoException } from '../../util/errors.js';
import { SHAMAN_DEFAULTS } from './defaults.js';
import { mapLimit } from './limit.js';

export interface TreeEntry {
  /** Relative to the tree's root, with `/` between folders. */
  path: string;
  size: number;
  mtimeMs: number;
}

export interface SkippedEntry {
  path: string;
  reason: 'symlink points outside the tree' | 'broken symlink' | 'symlink loop' | 'not a regular file' | 'unreadable';
}

export interface TreeListing {
  /** The tree's real absolute path; the files' paths are relative to it. */
  root: string;
  /** Every regular file, sorted by path. */
  files: TreeEntry[];
  /** What was left out and why, so a client can warn about it. */
  skipped: SkippedEntry[];
}

export interface ListTreeOptions {
  /** Leave out a file or folder (and everything in it) by its relative path. */
  ignore?: (path: string, isDirectory: boolean) => boolean;
}

/**
 * Lists the regular files under `dir` with size and mtime. Symlinks are followed only while they
 * stay inside the tree (a file or folder reached through one is listed under the link's path);
 * links leading out, broken links, loops and special files are reported in `skipped`.
 */
export async function listTree(dir: string, options: ListTreeOptions = {}): Promise<TreeListing> {
  let root: string;
  try {
    root = await realpath(dir);
    if (!(await stat(root)).isDirectory()) throw new UserError(`${dir} is not a folder`, { code: 'not_a_folder' });
  } catch (error) {
    if (isErrnoException(error)) throw new UserError(`cannot read folder ${dir}: ${error.message}`, { code: 'unreadable' });
    throw error;
  }
  const ignore = options.ignore ?? (() => false);
  const candidates: Array<{ path: string; real: string }> = [];
  const skipped: SkippedEntry[] = [];
  const inside = (real: string): boolean => real === root || real.startsWith(root.endsWith(sep) ? root : root + sep);

  const walk = async (realDir: string, relDir: string, ancestors: readonly string[]): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(realDir, { withFileTypes: true });
    } catch (error) {
      if (relDir === '') throw error;
      skipped.push({ path: relDir, reason: 'unreadable' });
      return;
    }
    const folders: Array<[string, string]> = [];
    const links: Array<[string, string]> = [];
    for (const entry of entries) {
      const rel = relDir ? `${relDir}/${entry.name}` : entry.name;
      const real = join(realDir, entry.name);
      if (entry.isFile()) {
        if (!ignore(rel, false)) candidates.push({ path: rel, real });
      } else if (entry.isDirectory()) {
        if (!ignore(rel, true)) folders.push([real, rel]);
      } else if (entry.isSymbolicLink()) {
        links.push([real, rel]);
      } else {
        skipped.push({ path: rel, reason: 'not a regular file' });
      }
    }
    await mapLimit(links, SHAMAN_DEFAULTS.fsConcurrency, async ([link, rel]) => {
      const real = await realpath(link).catch(() => undefined);
      const info = real === undefined ? undefined : await stat(real).catch(() => undefined);
      if (real === undefined || info === undefined) skipped.push({ path: rel, reason: 'broken symlink' });
      else if (!inside(real)) skipped.push({ path: rel, reason: 'symlink points outside the tree' });
      else if (info.isFile()) {
        if (!ignore(rel, false)) candidates.push({ path: rel, real });
      } else if (info.isDirectory()) {
        if (real === root || ancestors.includes(real)) skipped.push({ path: rel, reason: 'symlink loop' });
        else if (!ignore(rel, true)) folders.push([real, rel]);
      } else skipped.push({ path: rel, reason: 'not a regular file' });
    });
    await mapLimit(folders, 8, ([real, rel]) => walk(real, rel, [...ancestors, real]));
  };
  await walk(root, '', []);

  const files: TreeEntry[] = [];
  await mapLimit(candidates, SHAMAN_DEFAULTS.fsConcurrency, async ({ path, real }) => {
    try {
      const info = await lstat(real);
      files.push({ path, size: info.size, mtimeMs: info.mtimeMs });
    } catch {
      skipped.push({ path, reason: 'unreadable' });
    }
  });
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  skipped.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { root, files, skipped };
}
