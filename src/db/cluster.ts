import { readFileSync, existsSync, realpathSync, lstatSync, chownSync, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, basename, resolve } from 'node:path';
import { UserError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';
import type { AccessRule } from './access-rules.js';
import type { AuthMode } from './config.js';
import type { BinarySource } from './binaries.js';
import { lookupUser, type ServerUser } from './server-user.js';

/** What Kiln knows about one cluster; kept as `kiln.json` in its data directory. */
export interface ClusterMeta {
  format: 1;
  port: number;
  auth: AuthMode;
  clients: number;
  listen: string[];
  rules: AccessRule[];
  /** OS account the server runs as, when Kiln was run as root. */
  serverUser?: string;
  binaries: { bindir: string; source: BinarySource; version: string };
  /** Roles given certificates by `kiln db user add` (cert mode). */
  users: string[];
  createdAt: string;
  /** max_connections chosen with `kiln db set` (or kept from a hand edit of kiln.conf); else Kiln's rule. */
  maxConnections?: number;
  /** What Kiln last wrote into kiln.conf, so that a hand edit there is noticed, not lost. */
  confWritten?: { sha256: string; maxConnections: number | null };
  /** Digest of the pg_hba.conf Kiln last wrote, so that `allow`/`deny` notice a hand edit. */
  hbaWritten?: string;
}

const META_FILE = 'kiln.json';
export const CONF_FILE = 'kiln.conf';
export const ADMIN_ROLE = 'kiln_admin';
export const APP_ROLE = 'kiln';
export const APP_DATABASE = 'kiln';

/** Where a cluster's files are, once its data directory is known. */
export class ClusterPaths {
  /** The real data directory (PGDATA), after any symlink the igniter made. */
  readonly dataDir: string;
  constructor(readonly requested: string) {
    this.dataDir = existsSync(requested) ? realpathSync(requested) : resolve(requested);
  }
  get meta(): string {
    return join(this.dataDir, META_FILE);
  }
  get conf(): string {
    return join(this.dataDir, CONF_FILE);
  }
  get hba(): string {
    return join(this.dataDir, 'pg_hba.conf');
  }
  get log(): string {
    return join(this.dataDir, 'log', 'server.log');
  }
  get pidFile(): string {
    return join(this.dataDir, 'postmaster.pid');
  }
  /** Kiln's private files (the CA key); never read by the server. */
  get privateDir(): string {
    return join(this.dataDir, 'kiln');
  }
  get caCert(): string {
    return join(this.dataDir, 'root.crt');
  }
  get caKey(): string {
    return join(this.privateDir, 'ca.key');
  }
  /**
   * Unix socket paths are limited to ~107 bytes, so a deep data directory gets its
   * socket in a short per-cluster folder under /tmp instead.
   */
  socketDir(port: number): string {
    if (join(this.dataDir, `.s.PGSQL.${port}`).length < 100) return this.dataDir;
    return join('/tmp', `kiln-pg-${createHash('sha256').update(this.dataDir).digest('hex').slice(0, 12)}`);
  }
  isSymlinked(): boolean {
    try {
      return lstatSync(this.requested).isSymbolicLink();
    } catch {
      return false;
    }
  }
}

export function clusterExists(paths: ClusterPaths): boolean {
  return existsSync(paths.meta) || existsSync(join(paths.dataDir, 'PG_VERSION'));
}

export function isEmptyOrMissing(dir: string): boolean {
  return !existsSync(dir) || readdirSync(dir).length === 0;
}

export function readMeta(paths: ClusterPaths): ClusterMeta {
  if (!existsSync(paths.meta)) {
    const hint = existsSync(join(paths.dataDir, 'PG_VERSION'))
      ? ' (it holds a PostgreSQL cluster Kiln did not create)'
      : '';
    throw new UserError(`no Kiln database cluster in ${paths.requested}${hint}; create one with \`kiln db init\``, {
      field: 'data',
      code: 'not_found',
    });
  }
  return JSON.parse(readFileSync(paths.meta, 'utf8')) as ClusterMeta;
}

export async function writeMeta(paths: ClusterPaths, meta: ClusterMeta, owner?: ServerUser): Promise<void> {
  await writeOwnedFile(paths.meta, `${JSON.stringify(meta, null, 2)}\n`, 0o600, owner);
}

/** Writes a file inside the data directory, owned by the server user as PostgreSQL requires. */
export async function writeOwnedFile(path: string, content: string, mode: number, owner?: ServerUser): Promise<void> {
  await writeFileAtomic(path, content, mode);
  if (owner) chownSync(path, owner.uid, owner.gid);
}

function serverUserOf(meta: ClusterMeta): ServerUser | undefined {
  if (!meta.serverUser) return undefined;
  const user = lookupUser(meta.serverUser);
  if (!user) throw new UserError(`the cluster runs as ${meta.serverUser}, but that system user no longer exists`);
  return user;
}

export interface ClusterHandle {
  paths: ClusterPaths;
  meta: ClusterMeta;
  user: ServerUser | undefined;
}

export function openCluster(data: string): ClusterHandle {
  const paths = new ClusterPaths(resolve(data));
  const meta = readMeta(paths);
  return { paths, meta, user: serverUserOf(meta) };
}

export const clusterLabel = (paths: ClusterPaths): string => basename(paths.requested);
