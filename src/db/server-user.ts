import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, renameSync, rmSync, statSync, chmodSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { UserError } from '../util/errors.js';
import type { ServerBinaries } from './binaries.js';

const SERVER_USER_NAME = 'kiln_db';

/** The OS account the postmaster runs as. Undefined means "as the invoking user". */
export interface ServerUser {
  name: string;
  uid: number;
  gid: number;
}

export const isRoot = (): boolean => process.getuid?.() === 0;

/**
 * PostgreSQL refuses to run as root. Run as root, Kiln runs the server as the
 * unprivileged system user `kiln_db`, creating it when missing.
 */
export function ensureServerUser(): ServerUser | undefined {
  if (!isRoot()) return undefined;
  const existing = lookupUser(SERVER_USER_NAME);
  if (existing) return existing;
  const result = spawnSync(
    'useradd',
    [
      '--system',
      '--user-group',
      '--no-create-home',
      '--home-dir',
      '/nonexistent',
      '--shell',
      '/usr/sbin/nologin',
      '--comment',
      'Kiln database server',
      SERVER_USER_NAME,
    ],
    { encoding: 'utf8' },
  );
  // Another kiln process may have created it at the same moment: look again before failing.
  const created = lookupUser(SERVER_USER_NAME);
  if (created) return created;
  throw new UserError(
    `cannot create the system user ${SERVER_USER_NAME}: ${(result.stderr || result.error?.message || '').trim()}`,
  );
}

export function lookupUser(name: string): ServerUser | undefined {
  const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) return undefined;
  return { name, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** The first directory on the way to `path` that `user` cannot enter, if any. */
export function firstBlockingDirectory(path: string, user: ServerUser): string | undefined {
  let current = path;
  const chain: string[] = [];
  for (;;) {
    chain.unshift(current);
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const dir of chain) {
    if (!existsSync(dir)) return undefined; // created later, by us, with open modes
    const info = statSync(dir);
    const bit = info.uid === user.uid ? 0o100 : info.gid === user.gid ? 0o010 : 0o001;
    if ((info.mode & bit) === 0) return dir;
  }
  return undefined;
}

/**
 * The server user must be able to run the binaries. When they sit behind a private
 * directory (a 0700 home or temp dir), keep one copy per version under /var/lib/kiln.
 */
export function binariesReachableBy(binaries: ServerBinaries, user: ServerUser | undefined): ServerBinaries {
  if (!user) return binaries;
  const bindir = realpathSync(binaries.bindir);
  if (!firstBlockingDirectory(bindir, user)) return binaries;
  // The npm package keeps bin/, lib/ and share/ side by side; copy that whole installation.
  const installDir = dirname(bindir);
  const target = join(SYSTEM_STATE_DIR, 'postgresql', binaries.version);
  if (!existsSync(join(target, 'bin', 'postgres'))) {
    mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
    chmodSync(SYSTEM_STATE_DIR, 0o755);
    const temp = `${target}.${randomBytes(4).toString('hex')}.tmp`;
    cpSync(installDir, temp, { recursive: true, verbatimSymlinks: true });
    chmodSync(temp, 0o755);
    try {
      renameSync(temp, target);
    } catch {
      rmSync(temp, { recursive: true, force: true }); // a concurrent copy won the race
    }
  }
  return { ...binaries, bindir: join(target, 'bin'), copiedFrom: bindir };
}

/** Where a root installation keeps what the server user must reach. */
export const SYSTEM_STATE_DIR = '/var/lib/kiln';
