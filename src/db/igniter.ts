import {
  appendFileSync,
  chownSync,
  existsSync,
  mkdirSync,
  rmSync,
  symlinkSync,
  readFileSync,
  chmodSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join, resolve, basename } from 'node:path';
import { UserError } from '../util/errors.js';
import { ensureWritableDir, writeFileAtomic } from '../util/fs.js';
import { locateServerBinaries } from './binaries.js';
import {
  ensureServerUser,
  binariesReachableBy,
  firstBlockingDirectory,
  SYSTEM_STATE_DIR,
  type ServerUser,
} from './server-user.js';
import {
  defaultRules,
  renderHba,
  parseCidr,
  checkRoleName,
  withAllow,
  withDeny,
  type AccessRule,
} from './access-rules.js';
import { computeConnectionLimit, type ConnectionLimit } from './limits.js';
import type { PemPair } from './certs.js';
import { renderServerConfig } from './server-config.js';
import { withAdminClient, quoteIdent, reloadConfiguration } from './admin.js';
import { runAs, startServer, stopServer, readRunningState, checkPortFree, checkCanStart } from './server-process.js';
import {
  ClusterPaths,
  clusterExists,
  isEmptyOrMissing,
  readMeta,
  writeMeta,
  writeOwnedFile,
  serverUserOf,
  clusterLabel,
  ADMIN_ROLE,
  APP_ROLE,
  APP_DATABASE,
  CONF_FILE,
  type ClusterMeta,
} from './cluster.js';
import type { AuthMode } from './config.js';

export interface InitOptions {
  data: string;
  port: number;
  auth: AuthMode;
  clients: number;
  listen: string[];
  /** Leave the new cluster stopped. */
  noStart?: boolean;
}

export interface InitResult {
  paths: ClusterPaths;
  meta: ClusterMeta;
  limit: ConnectionLimit;
  /** Set when the data directory had to live elsewhere for the server user to reach it. */
  relocatedTo?: string;
  blockedBy?: string;
  started: boolean;
  pid?: number;
}

/** Creates a cluster: initdb, Kiln's configuration, access rules, TLS (cert mode), role and database. */
export async function initCluster(options: InitOptions): Promise<InitResult> {
  validatePort(options.port);
  validateClients(options.clients);
  const listen = options.listen.map(validateListenAddress);
  const paths = new ClusterPaths(resolve(options.data));
  if (clusterExists(paths)) {
    throw new UserError(
      `a database cluster already exists in ${paths.requested}; start it with \`kiln db start\` or remove it with \`kiln db destroy\``,
      {
        field: 'data',
        code: 'exists',
      },
    );
  }
  if (!isEmptyOrMissing(paths.dataDir))
    throw new UserError(`${paths.requested} is not empty; choose an empty or new directory with --data`, {
      field: 'data',
      code: 'exists',
    });
  if (!options.noStart) await checkPortFree(options.port, listen);

  const user = ensureServerUser();
  const binaries = binariesReachableBy(locateServerBinaries(), user);
  const blockedBy = user ? firstBlockingDirectory(dirname(paths.dataDir), user) : undefined;
  let target = paths.dataDir;
  if (blockedBy) {
    // The server user cannot enter a private directory on the way (a 0700 home):
    // keep the cluster under /var/lib/kiln and leave a symlink where it was asked for.
    const tag = createHash('sha256').update(paths.dataDir).digest('hex').slice(0, 12);
    target = join(SYSTEM_STATE_DIR, 'clusters', `${basename(paths.dataDir)}-${tag}`);
    if (clusterExistsAt(target)) rmSync(target, { recursive: true, force: true }); // an orphan of a deleted symlink
  }

  const createdDirs: string[] = [];
  try {
    createDataDirectory(target, user, createdDirs);
    if (target !== paths.dataDir) {
      mkdirSync(dirname(paths.dataDir), { recursive: true });
      rmSync(paths.dataDir, { recursive: true, force: true }); // empty, checked above
      symlinkSync(target, paths.dataDir);
      createdDirs.push(paths.dataDir);
    }
    const real = new ClusterPaths(paths.requested);
    const initdb = await runAs(user, join(binaries.bindir, 'initdb'), [
      '-D',
      real.dataDir,
      '-U',
      ADMIN_ROLE,
      '--auth=trust',
      '-E',
      'UTF8',
      '--locale=C',
      '--no-instructions',
    ]);
    if (initdb.code !== 0) throw new Error(`initdb failed: ${initdb.stderr.trim().split('\n').slice(-2).join(' | ')}`);

    const meta: ClusterMeta = {
      format: 1,
      port: options.port,
      auth: options.auth,
      clients: options.clients,
      listen,
      rules: defaultRules(options.auth),
      serverUser: user?.name,
      binaries: { bindir: binaries.bindir, source: binaries.source, version: binaries.version },
      users: [],
      createdAt: new Date().toISOString(),
    };
    if (options.auth === 'cert') await createClusterCertificates(real, meta, user);
    appendFileSync(join(real.dataDir, 'postgresql.conf'), `\n# Kiln's settings\ninclude_if_exists = '${CONF_FILE}'\n`);
    await writeClusterFiles(real, meta, user);

    let pid: number | undefined;
    if (!options.noStart) {
      pid = await startServer(real, meta, user);
      await createApplicationRole(real, meta);
    }
    return {
      paths: real,
      meta,
      limit: computeConnectionLimit(meta.clients),
      started: !options.noStart,
      pid,
      relocatedTo: target !== paths.dataDir ? target : undefined,
      blockedBy,
    };
  } catch (error) {
    // Leave nothing half-made: stop what may have started, remove what was created.
    const real = new ClusterPaths(paths.requested);
    if (readRunningState(real).running && existsSync(real.meta))
      await stopServer(real, readMeta(real), user).catch(() => undefined);
    for (const dir of createdDirs.reverse()) rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

function clusterExistsAt(dir: string): boolean {
  return existsSync(join(dir, 'PG_VERSION')) || existsSync(join(dir, 'kiln.json'));
}

function createDataDirectory(dir: string, user: ServerUser | undefined, created: string[]): void {
  if (!existsSync(dirname(dir))) {
    // Parents created here stay open (0755) so the server user can pass through them.
    let top = dirname(dir);
    while (!existsSync(dirname(top))) top = dirname(top);
    mkdirSync(dirname(dir), { recursive: true, mode: 0o755 });
    created.push(top);
  }
  if (!existsSync(dir)) {
    mkdirSync(dir, { mode: 0o700 });
    created.push(dir);
  }
  chmodSync(dir, 0o700);
  if (user) chownSync(dir, user.uid, user.gid);
}

async function createClusterCertificates(
  paths: ClusterPaths,
  meta: ClusterMeta,
  user: ServerUser | undefined,
): Promise<void> {
  // Loaded on demand: the X.509 library is large and only cert mode needs it.
  const { createCertificateAuthority, issueServerCertificate } = await import('./certs.js');
  const ca = await createCertificateAuthority(clusterLabel(paths));
  const server = await issueServerCertificate(ca, meta.listen);
  mkdirSync(paths.privateDir, { mode: 0o700, recursive: true });
  await writeFileAtomic(paths.caKey, ca.key, 0o600); // stays with the invoking user, not the server
  await writeOwnedFile(paths.caCert, ca.cert, 0o644, user);
  await writeOwnedFile(join(paths.dataDir, 'server.crt'), server.cert, 0o600, user);
  await writeOwnedFile(join(paths.dataDir, 'server.key'), server.key, 0o600, user);
}

async function writeClusterFiles(paths: ClusterPaths, meta: ClusterMeta, user: ServerUser | undefined): Promise<void> {
  await writeOwnedFile(paths.conf, renderServerConfig(paths, meta), 0o600, user);
  await writeOwnedFile(paths.hba, renderHba(meta.rules, meta.auth), 0o600, user);
  await writeMeta(paths, meta, user);
}

async function createApplicationRole(paths: ClusterPaths, meta: ClusterMeta): Promise<void> {
  await withAdminClient(paths, meta, async (client) => {
    // trust: the one generic login role. cert: a group role owning the data; users join it.
    await client.query(`CREATE ROLE ${APP_ROLE} ${meta.auth === 'trust' ? 'LOGIN' : 'NOLOGIN'} CREATEDB`);
    await client.query(`CREATE DATABASE ${APP_DATABASE} OWNER ${APP_ROLE}`);
  });
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

export async function start(data: string): Promise<{ pid: number; meta: ClusterMeta }> {
  const { paths, meta, user } = openCluster(data);
  // A start that is refused (already running, port taken) must leave every file as it was.
  await checkCanStart(paths, meta);
  // Rewrite kiln.conf: the open-files limit of this start decides max_connections.
  await writeOwnedFile(paths.conf, renderServerConfig(paths, meta), 0o600, user);
  return { pid: await startServer(paths, meta, user), meta };
}

export async function stop(data: string): Promise<boolean> {
  const { paths, meta, user } = openCluster(data);
  return stopServer(paths, meta, user);
}

/** Removes the cluster: its data directory, and the relocated copy a symlink points to. */
export async function destroy(data: string): Promise<void> {
  const { paths, meta, user } = openCluster(data);
  await stopServer(paths, meta, user);
  if (paths.isSymlinked()) rmSync(paths.requested, { force: true });
  rmSync(paths.dataDir, { recursive: true, force: true });
  const socketDir = paths.socketDir(meta.port);
  if (socketDir !== paths.dataDir) rmSync(socketDir, { recursive: true, force: true });
}

async function updateRules(
  data: string,
  change: (rules: AccessRule[]) => AccessRule[],
): Promise<{ rules: AccessRule[]; reloaded: boolean }> {
  const { paths, meta, user } = openCluster(data);
  const next: ClusterMeta = { ...meta, rules: change(meta.rules) };
  await writeOwnedFile(paths.hba, renderHba(next.rules, next.auth), 0o600, user);
  await writeMeta(paths, next, user);
  const running = readRunningState(paths).running;
  if (running) await reloadConfiguration(paths, next);
  return { rules: next.rules, reloaded: running };
}

export function allow(data: string, cidr: string, options: { user?: string; database?: string } = {}) {
  const rule = {
    cidr: parseCidr(cidr),
    user: checkRoleName(options.user ?? 'all', 'user'),
    database: checkRoleName(options.database ?? 'all', 'database'),
  };
  return updateRules(data, (rules) => withAllow(rules, rule));
}

export function deny(data: string, cidr: string) {
  const network = parseCidr(cidr);
  return updateRules(data, (rules) => withDeny(rules, network));
}

/** Changes max_connections; the server must restart for it, so a running one is restarted. */
export async function setClients(
  data: string,
  clients: number,
): Promise<{ limit: ConnectionLimit; restarted: boolean }> {
  validateClients(clients);
  const { paths, meta, user } = openCluster(data);
  const next = { ...meta, clients };
  await writeMeta(paths, next, user);
  await writeOwnedFile(paths.conf, renderServerConfig(paths, next), 0o600, user);
  const running = readRunningState(paths).running;
  if (running) {
    await stopServer(paths, next, user);
    await startServer(paths, next, user);
  }
  return { limit: computeConnectionLimit(clients), restarted: running };
}

export interface UserAddResult {
  role: string;
  files: { cert: string; key: string; root: string };
  /** The role was there already: it got a new certificate (and may log in again). */
  existed: boolean;
}

/** cert mode: creates a login role and writes its client certificate where libpq looks. */
export async function addUser(
  data: string,
  name: string,
  outDir: string,
  options: { force?: boolean } = {},
): Promise<UserAddResult> {
  checkRoleName(name, 'user');
  if (name === 'all' || name === ADMIN_ROLE || name === APP_ROLE || name.toLowerCase().startsWith('pg_')) {
    throw new UserError(
      `"${name}" is reserved (kiln's own roles, all, and PostgreSQL's pg_ names); choose another user name`,
      { field: 'user', code: 'reserved' },
    );
  }
  const { paths, meta, user } = openCluster(data);
  if (meta.auth !== 'cert') {
    throw new UserError(
      `user add needs a cluster in cert mode; this one uses trust (everyone connects as "${APP_ROLE}")`,
      { field: 'auth', code: 'wrong_mode' },
    );
  }
  if (!readRunningState(paths).running)
    throw new UserError('the database is not running; start it with `kiln db start`', { code: 'not_running' });
  const files = {
    cert: join(outDir, 'postgresql.crt'),
    key: join(outDir, 'postgresql.key'),
    root: join(outDir, 'root.crt'),
  };
  if (!options.force && existsSync(files.key)) {
    throw new UserError(
      `${files.key} already exists (another identity?); pass --out DIR to write elsewhere, or --force to replace it`,
      { field: 'out' },
    );
  }
  // The role is made only once its files surely have a place to go.
  ensureWritableDir(outDir, 'out', 0o700);
  const ca: PemPair = { cert: readFileSync(paths.caCert, 'utf8'), key: readFileSync(paths.caKey, 'utf8') };
  const { issueUserCertificate } = await import('./certs.js');
  const issued = await issueUserCertificate(ca, name);
  const existed = await withAdminClient(paths, meta, async (client) => {
    const { rowCount } = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name]);
    await client.query(`${rowCount ? 'ALTER' : 'CREATE'} ROLE ${quoteIdent(name)} LOGIN`);
    await client.query(`GRANT ${APP_ROLE} TO ${quoteIdent(name)}`);
    return Boolean(rowCount);
  });
  await writeFileAtomic(files.cert, issued.cert, 0o644);
  await writeFileAtomic(files.key, issued.key, 0o600);
  await writeFileAtomic(files.root, ca.cert, 0o644);
  await writeMeta(paths, { ...meta, users: [...new Set([...meta.users, name])] }, user);
  return { role: name, files, existed };
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

export function validatePort(port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new UserError(`invalid port "${port}": must be an integer from 1 to 65535`, { field: 'port' });
}

function validateClients(clients: number): void {
  if (!Number.isInteger(clients) || clients < 1 || clients > 10000)
    throw new UserError(`invalid clients "${clients}": must be an integer from 1 to 10000`, { field: 'clients' });
}

function validateListenAddress(address: string): string {
  const trimmed = address.trim();
  if (trimmed === '*' || trimmed === 'localhost') return trimmed;
  try {
    parseCidr(trimmed);
  } catch {
    throw new UserError(`invalid listen address "${address}": use an IP address of this host, localhost, or *`, {
      field: 'listen',
    });
  }
  return trimmed;
}

/**
 * The embedded default: make the cluster on first use, start it when stopped.
 * Returns whether this call started the server, so the caller can stop it on exit.
 */
export async function ensureRunning(options: InitOptions): Promise<{ created: boolean; started: boolean }> {
  const paths = new ClusterPaths(resolve(options.data));
  if (!clusterExists(paths)) {
    await initCluster({ ...options, noStart: false });
    return { created: true, started: true };
  }
  if (readRunningState(paths).running) return { created: false, started: false };
  await start(options.data);
  return { created: false, started: true };
}
