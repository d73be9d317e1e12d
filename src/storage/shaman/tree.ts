import { lstat, lstatSync, readdirSync, realpathSync, statSync, type Dirent } from 'node:fs';
import { sep } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { UserError, isErrnoException } from '../../util/errors.js';
import { runFsBatch } from './limit.js';

interface TreeEntry {
  /** Relative to the tree's root, with `/` between folders. */
  path: string;
  size: number;
  mtimeMs: number;
}

interface SkippedEntry {
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
 * The event loop gets a turn between folders; stat calls run like runFsBatch's (synchronous in
 * short slices on a local disk, in parallel on a slow network file system).
 */
export async function listTree(dir: string, options: ListTreeOptions = {}): Promise<TreeListing> {
  let root: string;
  try {
    root = realpathSync(dir);
    if (!statSync(root).isDirectory()) throw new UserError(`${dir} is not a folder`, { code: 'not_a_folder' });
  } catch (error) {
    if (isErrnoException(error))
      throw new UserError(`cannot read folder ${dir}: ${error.message}`, { code: 'unreadable' });
    throw error;
  }
  const ignore = options.ignore ?? (() => false);
  const candidates: Array<{ path: string; real: string }> = [];
  const skipped: SkippedEntry[] = [];
  const rootPrefix = root.endsWith(sep) ? root : root + sep;
  const inside = (real: string): boolean => real === root || real.startsWith(rootPrefix);

  // Depth first with an explicit stack; `ancestors` are the real paths of the folders above, for loops.
  const stack: Array<{ real: string; rel: string; ancestors: readonly string[] }> = [
    { real: root, rel: '', ancestors: [root] },
  ];
  for (let folder = stack.pop(); folder; folder = stack.pop()) {
    let entries: Dirent[];
    try {
      entries = readdirSync(folder.real, { withFileTypes: true });
    } catch (error) {
      if (folder.rel === '') throw error;
      skipped.push({ path: folder.rel, reason: 'unreadable' });
      continue;
    }
    for (const entry of entries) {
      const rel = folder.rel ? `${folder.rel}/${entry.name}` : entry.name;
      // Concatenated, not joined: a name holds no separator, and this runs once per entry.
      const path = folder.real.endsWith(sep) ? `${folder.real}${entry.name}` : `${folder.real}${sep}${entry.name}`;
      if (entry.isFile()) {
        if (!ignore(rel, false)) candidates.push({ path: rel, real: path });
      } else if (entry.isDirectory()) {
        if (!ignore(rel, true)) stack.push({ real: path, rel, ancestors: [...folder.ancestors, path] });
      } else if (entry.isSymbolicLink()) {
        const real = tryCall(() => realpathSync(path));
        const info = real === undefined ? undefined : statSync(real, { throwIfNoEntry: false });
        if (real === undefined || info === undefined) skipped.push({ path: rel, reason: 'broken symlink' });
        else if (!inside(real)) skipped.push({ path: rel, reason: 'symlink points outside the tree' });
        else if (info.isFile()) {
          if (!ignore(rel, false)) candidates.push({ path: rel, real });
        } else if (info.isDirectory()) {
          if (folder.ancestors.includes(real)) skipped.push({ path: rel, reason: 'symlink loop' });
          else if (!ignore(rel, true)) stack.push({ real, rel, ancestors: [...folder.ancestors, real] });
        } else skipped.push({ path: rel, reason: 'not a regular file' });
      } else {
        skipped.push({ path: rel, reason: 'not a regular file' });
      }
    }
    await yieldToEventLoop();
  }

  const files: TreeEntry[] = [];
  const add = (path: string, info: { size: number; mtimeMs: number } | undefined): void => {
    if (info) files.push({ path, size: info.size, mtimeMs: info.mtimeMs });
    else skipped.push({ path, reason: 'unreadable' });
  };
  const infos = await runFsBatch(
    candidates,
    ({ real }) => tryCall(() => lstatSync(real)),
    ({ real }, _, done) => lstat(real, (error, info) => done(null, error ? undefined : info)),
  );
  for (const [i, { path }] of candidates.entries()) add(path, infos[i]);
  files.sort(byPath);
  skipped.sort(byPath);
  return { root, files, skipped };
}

const byPath = (a: { path: string }, b: { path: string }): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

function tryCall<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}
