import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { UserError } from '../util/errors.js';
import { checkRoleName } from './access-rules.js';
import { withAdminClient, quoteIdent } from './admin.js';
import { ADMIN_ROLE, APP_ROLE, openCluster, writeMeta, type ClusterHandle } from './cluster.js';
import type { PemPair } from './certs.js';
import { readRunningState } from './server-process.js';
import { isRoot } from './server-user.js';
import { asAccount, lookupAccount, prepareOutputDir, writePrivateFile, type Account } from './user-files.js';

export interface UserAddResult {
  role: string;
  files: { cert: string; key: string; root: string };
  /** The role was there already: it got a new certificate (and may log in again). */
  existed: boolean;
  /** The system user the files were written for (run as root, no --out). */
  owner?: string;
  /** Why the files went to the default place rather than the user's home, when that matters. */
  note?: string;
}

interface Destination {
  dir: string;
  owner?: Account;
  note?: string;
}

/**
 * Where the certificate goes: --out when given; run as root, the home of the system user of
 * that name (libpq looks in ~/.postgresql, and background jobs run as their owner); else the
 * invoking user's ~/.postgresql.
 */
function destinationFor(name: string, out: string | undefined): Destination {
  if (out) return { dir: resolve(out) };
  const own = join(homedir(), '.postgresql');
  if (!isRoot()) return { dir: own };
  const account = lookupAccount(name);
  if (!account)
    return { dir: own, note: `no system user "${name}" here, so the files went to ${own}; copy them to its home` };
  if (!account.home || !existsSync(account.home))
    throw new UserError(
      `system user "${name}" has no home folder (${account.home || 'none'}); pass --out DIR to write the certificate elsewhere`,
      { field: 'out' },
    );
  return { dir: join(account.home, '.postgresql'), owner: account };
}

function checkAddable(name: string, handle: ClusterHandle): void {
  checkRoleName(name, 'user');
  if (name === 'all' || name === ADMIN_ROLE || name === APP_ROLE || name.toLowerCase().startsWith('pg_')) {
    throw new UserError(
      `"${name}" is reserved (kiln's own roles, all, and PostgreSQL's pg_ names); choose another user name`,
      { field: 'user', code: 'reserved' },
    );
  }
  if (handle.meta.auth !== 'cert') {
    throw new UserError(
      `user add needs a cluster in cert mode; this one uses trust (everyone connects as "${APP_ROLE}")`,
      { field: 'auth', code: 'wrong_mode' },
    );
  }
  if (!readRunningState(handle.paths).running)
    throw new UserError('the database is not running; start it with `kiln db start`', { code: 'not_running' });
}

/** cert mode: creates a login role and writes its client certificate where libpq looks. */
export async function addUser(
  data: string,
  name: string,
  options: { out?: string; force?: boolean } = {},
): Promise<UserAddResult> {
  checkRoleName(name, 'user');
  const handle = openCluster(data);
  checkAddable(name, handle);
  const { paths, meta, user } = handle;
  const destination = destinationFor(name, options.out);
  const files = {
    cert: join(destination.dir, 'postgresql.crt'),
    key: join(destination.dir, 'postgresql.key'),
    root: join(destination.dir, 'root.crt'),
  };
  // The role is made only once its files surely have a place to go (checked as their owner).
  asAccount(destination.owner, () => prepareOutputDir(destination.dir, files.key, options.force));
  const ca: PemPair = { cert: readFileSync(paths.caCert, 'utf8'), key: readFileSync(paths.caKey, 'utf8') };
  const { issueUserCertificate } = await import('./certs.js');
  const issued = await issueUserCertificate(ca, name);
  const existed = await withAdminClient(paths, meta, async (client) => {
    const { rowCount } = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name]);
    await client.query(`${rowCount ? 'ALTER' : 'CREATE'} ROLE ${quoteIdent(name)} LOGIN`);
    await client.query(`GRANT ${APP_ROLE} TO ${quoteIdent(name)}`);
    return Boolean(rowCount);
  });
  // Written as the owner: the files are theirs, and root never writes through their links.
  asAccount(destination.owner, () => {
    writePrivateFile(files.cert, issued.cert, 0o644);
    writePrivateFile(files.key, issued.key, 0o600);
    writePrivateFile(files.root, ca.cert, 0o644);
  });
  await writeMeta(paths, { ...meta, users: [...new Set([...meta.users, name])] }, user);
  return { role: name, files, existed, owner: destination.owner?.name, note: destination.note };
}

/** Revokes a user: it can no longer log in, and its open sessions end. */
export async function removeUser(data: string, name: string): Promise<void> {
  checkRoleName(name, 'user');
  const { paths, meta, user } = openCluster(data);
  if (meta.auth !== 'cert')
    throw new UserError(`user remove needs a cluster in cert mode; this one uses trust`, {
      field: 'auth',
      code: 'wrong_mode',
    });
  if (!readRunningState(paths).running)
    throw new UserError('the database is not running; start it with `kiln db start`', { code: 'not_running' });
  await withAdminClient(paths, meta, async (client) => {
    const { rowCount } = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name]);
    if (!rowCount || !meta.users.includes(name))
      throw new UserError(`no user "${name}" in this cluster`, { field: 'user', code: 'not_found' });
    await client.query(`ALTER ROLE ${quoteIdent(name)} NOLOGIN`);
    await client.query(`REVOKE ${APP_ROLE} FROM ${quoteIdent(name)}`);
    await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [name]);
  });
  await writeMeta(paths, { ...meta, users: meta.users.filter((u) => u !== name) }, user);
}
