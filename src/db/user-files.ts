import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, writeSync, fchmodSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../util/errors.js';
import { ensureWritableDir } from '../util/fs.js';

/** A system account that files are written for. */
export interface Account {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** The passwd entry of `name` (getent on Linux, dscl on macOS), or undefined when there is none. */
export function lookupAccount(name: string): Account | undefined {
  const getent = spawnSync('getent', ['passwd', name], { encoding: 'utf8' });
  if (getent.status === 0) {
    const [, , uid, gid, , home] = getent.stdout.trim().split(':');
    return { name, uid: Number(uid), gid: Number(gid), home: home ?? '' };
  }
  if (process.platform !== 'darwin') return undefined;
  const read = (key: string): string | undefined =>
    /:\s*(.+)$/.exec(spawnSync('dscl', ['.', '-read', `/Users/${name}`, key], { encoding: 'utf8' }).stdout ?? '')?.[1];
  const [uid, gid, home] = [read('UniqueID'), read('PrimaryGroupID'), read('NFSHomeDirectory')];
  return uid && gid ? { name, uid: Number(uid), gid: Number(gid), home: home ?? '' } : undefined;
}

/**
 * Runs `fn` with the effective ids of `account` (root only), so that what it creates is
 * that account's and the kernel refuses what that account could not do: root never
 * follows a link planted in someone's home. `fn` must be synchronous, so that nothing
 * else of this process runs under the borrowed ids.
 */
export function asAccount<T>(account: Account | undefined, fn: () => T): T {
  if (!account) return fn();
  const [groups, euid, egid] = [process.getgroups?.() ?? [], process.geteuid?.() ?? 0, process.getegid?.() ?? 0];
  process.setgroups?.([account.gid]);
  process.setegid?.(account.gid);
  process.seteuid?.(account.uid);
  try {
    return fn();
  } finally {
    process.seteuid?.(euid);
    process.setegid?.(egid);
    process.setgroups?.(groups);
  }
}

/**
 * The output folder exists (0700 when made here) and takes files, and holds no key that
 * this would replace unless `force`. access(2) answers for the real user, not a borrowed
 * one, so writability is proven by making and removing a file.
 */
export function prepareOutputDir(dir: string, keyFile: string, force = false): void {
  if (!force && existsSync(keyFile)) {
    throw new UserError(
      `${keyFile} already exists (another identity?); pass --out DIR to write elsewhere, or --force to replace it`,
      { field: 'out' },
    );
  }
  ensureWritableDir(dir, 'out', 0o700);
  const probe = join(dir, `.kiln-probe-${randomBytes(4).toString('hex')}`);
  try {
    closeSync(openSync(probe, 'wx', 0o600));
    rmSync(probe, { force: true });
  } catch (error) {
    throw new UserError(`cannot write in ${dir}: ${(error as NodeJS.ErrnoException).code ?? 'unknown error'}`, {
      field: 'out',
    });
  }
}

/**
 * Writes a file whole or not at all: a new temp file beside it (O_EXCL, so never through an
 * existing link), fsync, rename over. Synchronous, for use inside asAccount.
 */
export function writePrivateFile(path: string, data: string, mode: number): void {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(temp, 'wx', mode);
  try {
    writeSync(fd, data);
    fchmodSync(fd, mode);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
  closeSync(fd);
  renameSync(temp, path);
}
