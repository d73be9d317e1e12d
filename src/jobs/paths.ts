import type { JobToCompile } from './types.js';
import { settingsError } from './settings.js';

/**
 * Path helpers for job types. Paths are strings for another host (a worker, perhaps on another
 * platform, perhaps with a two-way variable such as `{farm}/shots` still to be replaced), so
 * node:path, which follows the manager's platform, is not used.
 */

/** Absolute on any platform: `/x`, `C:\x`, `C:/x`, `\\server\x`, or starting with a `{variable}`. */
export function isAbsolutePath(path: string): boolean {
  return /^([/\\]|[A-Za-z]:[/\\]|\{[^}]+\})/.test(path);
}

/** Joins with the separator `dir` already uses ('\' for a Windows-only path, else '/'). */
export function joinPath(dir: string, ...parts: string[]): string {
  const separator = dir.includes('\\') && !dir.includes('/') ? '\\' : '/';
  let out = dir;
  for (const part of parts) {
    if (part === '') continue;
    const head = out.replace(/[/\\]+$/, '');
    const tail = part.replace(/^[/\\]+/, '');
    out = head === '' && /^[/\\]/.test(out) ? `${separator}${tail}` : head === '' ? tail : `${head}${separator}${tail}`;
  }
  return out;
}

/**
 * A path from the job's settings (`field`, e.g. `settings.output`) as the worker should see it:
 * absolute paths are kept; relative ones are taken inside the job's effective storage path
 * (direct, copied or Shaman checkout). A relative path in a job without storage would land in
 * whatever folder each worker happens to run in, so it is refused.
 */
export function resolveJobPath(job: Pick<JobToCompile, 'storage'>, path: string, field: string): string {
  if (isAbsolutePath(path)) return path;
  const base = job.storage?.effectivePath;
  if (!base) {
    throw settingsError(
      field,
      `${field} "${path}" is a relative path, but the job has no input folder (--input) to take it in; give an absolute path, or one starting with a variable such as {farm}`,
    );
  }
  return joinPath(base, path.replace(/^\.[/\\]/, ''));
}

/**
 * A file name made from free text (a job name): runs of characters other than letters, digits,
 * '.', '_' and '-' become '_', leading and trailing '.', '_' and '-' are dropped, at most 100
 * characters; `fallback` when nothing is left. "Shot 010 / comp v2" gives "Shot_010_comp_v2".
 */
export function sanitiseFileName(text: string, fallback = 'output'): string {
  let name = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._-]+|[._-]+$/g, '')
    .slice(0, 100)
    .replace(/[._-]+$/, '');
  if (name === '') name = fallback;
  if (/^(con|prn|aux|nul|com\d|lpt\d)$/i.test(name)) name = `${name}_`;
  return name;
}

/** The folder part of a path (`/out/a.mp4` gives `/out`), or undefined for a bare name. */
export function parentPath(path: string): string | undefined {
  const cut = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  if (cut < 0) return undefined;
  if (cut === 0) return path[0];
  if (cut === 2 && /^[A-Za-z]:/.test(path)) return path.slice(0, 3);
  return path.slice(0, cut);
}
