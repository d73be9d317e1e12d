import { accessSync, constants as fsConstants, mkdirSync, statSync, statfsSync, type Stats } from 'node:fs';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { UserError } from './errors.js';

/**
 * Writes a file so that readers see either the old or the new content, never a part:
 * write to a temp name beside it, fsync, rename over.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(temp, 'w', mode);
  try {
    await handle.writeFile(data);
    await handle.chmod(mode);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  await rename(temp, path);
}

/**
 * Removes the temp files writeFileAtomic left beside `path` when a writer of it was killed
 * outright (SIGKILL cannot be caught). For a path only one writer writes at a time (a frame
 * of a task, which never runs twice at once), so anything found is stale.
 */
export async function removeStaleTemps(path: string): Promise<void> {
  const prefix = `.${basename(path)}.`;
  const names = await readdir(dirname(path)).catch(() => [] as string[]);
  const stale = names.filter((name) => name.startsWith(prefix) && /^[0-9a-f]{8}\.tmp$/.test(name.slice(prefix.length)));
  await Promise.all(stale.map((name) => rm(join(dirname(path), name), { force: true })));
}

/** Kernel file systems where nobody keeps files (mkdir -p on them can even loop forever). */
const PSEUDO_FILE_SYSTEMS = new Map<number, string>([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x1cd1, 'devpts'],
  [0x64626720, 'debugfs'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
]);

/**
 * Makes sure `dir` is a folder this process can write to, creating what is missing, so a
 * command can check its output place before it changes anything else. Throws a UserError
 * naming `field` and the reason.
 */
export function ensureWritableDir(dir: string, field: string, mode = 0o755): void {
  const missing: string[] = [];
  let existing = dir;
  for (;;) {
    let info: Stats | undefined;
    try {
      info = statSync(existing);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // ENOTDIR: a file on the way; walking up finds it and names it.
      if (code !== 'ENOENT' && code !== 'ENOTDIR')
        throw new UserError(`cannot use ${dir}: ${existing}: ${describeFsError(code)}`, { field });
    }
    if (info) {
      if (!info.isDirectory()) throw new UserError(`cannot use ${dir}: ${existing} is not a folder`, { field });
      break;
    }
    const parent = dirname(existing);
    if (parent === existing) break;
    missing.unshift(existing);
    existing = parent;
  }
  const fsType = PSEUDO_FILE_SYSTEMS.get(Number(statfsSync(existing).type));
  if (fsType)
    throw new UserError(`cannot use ${dir}: ${existing} is on the kernel's ${fsType} file system, not storage`, {
      field,
    });
  try {
    accessSync(existing, fsConstants.W_OK | fsConstants.X_OK);
  } catch (error) {
    throw new UserError(
      `cannot use ${dir}: ${existing} is not writable by this user (${describeFsError((error as NodeJS.ErrnoException).code)})`,
      { field },
    );
  }
  for (const part of missing) {
    try {
      mkdirSync(part, { mode });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw new UserError(`cannot create ${part}: ${describeFsError(code)}`, { field });
    }
  }
}

function describeFsError(code: string | undefined): string {
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOTDIR':
      return 'a part of the path is a file, not a folder';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'ENOENT':
      return 'no such file or folder';
    default:
      return code ?? 'unknown error';
  }
}
