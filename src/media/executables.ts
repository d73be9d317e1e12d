/** Finding programs on this host without running them. */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { UserError } from '../util/errors.js';
import { isWindows } from '../util/platform.js';

/** True when `path` is a regular file this process may execute. */
export function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    if (!isWindows()) accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Whether a program name has a directory part ("./ffmpeg", "/usr/bin/ffmpeg", "C:\\x\\ffmpeg.exe"). */
function hasDirectory(name: string): boolean {
  return isAbsolute(name) || name.includes('/') || (isWindows() && name.includes('\\'));
}

/**
 * Looks a program up like a shell does: a name with a directory part is checked as a path, a bare
 * name is searched in PATH (with PATHEXT's extensions on Windows). Returns an absolute path.
 */
export function findExecutable(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (name === '') return undefined;
  const extensions = isWindows() ? ['', ...(env.PATHEXT ?? '.EXE;.CMD;.BAT;.COM').split(';').filter(Boolean)] : [''];
  if (hasDirectory(name)) {
    for (const extension of extensions) {
      const candidate = resolve(name + extension);
      if (isExecutableFile(candidate)) return candidate;
    }
    return undefined;
  }
  const path = env.PATH ?? env.Path ?? '';
  for (const directory of path.split(delimiter)) {
    if (directory === '') continue;
    for (const extension of extensions) {
      const candidate = resolve(join(directory, name + extension));
      if (isExecutableFile(candidate)) return candidate;
    }
  }
  return undefined;
}

/**
 * The program an administrator configured (a path, or a name looked up in PATH). A configured
 * program that is missing is an error, not a reason to fall back to another copy.
 */
export function findConfiguredProgram(label: string, wanted: string, env: NodeJS.ProcessEnv): string {
  const path = findExecutable(wanted, env);
  if (path) return path;
  throw new UserError(
    hasDirectory(wanted)
      ? `configured ${label} "${wanted}" does not exist or is not executable`
      : `configured ${label} "${wanted}" was not found in PATH`,
    { code: 'not-found', field: label },
  );
}
