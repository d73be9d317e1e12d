import { chownSync, existsSync, mkdirSync, rmSync, symlinkSync, readFileSync, chmodSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join, resolve, basename } from 'node:path';
import { UserError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { locateServerBinaries } from './binaries.js';
import {
  ensureServerUser,
  binariesReachableBy,
  firstBlockingDirectory,
  SYSTEM_STATE_DIR,
  type ServerUser,
} from './server-user.js';
import { defaultRules, renderHba, parseCidr } from './access-rules.js';
import type { ConnectionLimit } from './limits.js';
import { writeServerConfig } from './server-config.js';
import { preparePostgresqlConf } from './hand-settings.js';
import { validateClients } from './settings.js';
import { withAdminClient } from './admin.js';
import { runAs, startServer, stopServer, readRunningState, checkPortFree, checkCanStart } from './server-process.js';
import {
  ClusterPaths,
  clusterExists,
  isEmptyOrMissing,
  readMeta,
  writeOwnedFile,
  openCluster,
  clusterLabel,
  ADMIN_ROLE,
  APP_ROLE,
  APP_DATABASE,
  CONF_FILE,
  type ClusterMeta,
} from './cluster.js';
import type { AuthMode } from './config.js';
import { startAnnouncer, stopAnnouncer } from './announcer.js';
import { resolveHome } from '../config/home.js';

// The igniter's other commands live in modules of their own; callers reach them all here.
export { openCluster } from './cluster.js';
export { allow, deny, type RulesChange } from './rules.js';
export { addUser, removeUser } from './users.js';
export { setSetting, type SetResult } from './settings.js';

export interface InitOptions {
  data: string;
  port: number;
  auth: AuthMode;
  clients: number;
  listen: string[];
  /** Leave the new cluster stopped. */
  noStart?: boolean;
  /** The Kiln home whose network.cfg and db.yaml the announcer reads (default: resolveHome()). */
  home?: string;
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
  /** The announcer started beside the server (none when discovery is off). */
  announcerPid?: number;
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
    const written = await writeClusterFiles(real, meta, user);

    let pid: number | undefined;
    let announcerPid: number | undefined;
    if (!options.noStart) {
      pid = await startServer(real, meta, user);
      await createApplicationRole(real, meta);
      announcerPid = startAnnouncer(real, options.home ?? resolveHome());
    }
    return {
      announcerPid,
      paths: real,
      meta: written.meta,
      limit: written.limit,
      started: !options.noStart,
      pid,
      relocatedTo: target !== paths.dataDir ? target : undefined,
      blockedBy,
    };
  } catch (error) {
    // Leave nothing half-made: stop what may have started, remove what was created.
    const real = new ClusterPaths(paths.requested);
    await stopAnnouncer(real).catch(() => undefined);
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

async function writeClusterFiles(paths: ClusterPaths, meta: ClusterMeta, user: ServerUser | undefined) {
  const postgresqlConf = join(paths.dataDir, 'postgresql.conf');
  await writeOwnedFile(
    postgresqlConf,
    preparePostgresqlConf(readFileSync(postgresqlConf, 'utf8'), CONF_FILE),
    0o600,
    user,
  );
  const hba = renderHba(meta.rules, meta.auth);
  await writeOwnedFile(paths.hba, hba, 0o600, user);
  const hbaWritten = createHash('sha256').update(hba).digest('hex');
  return writeServerConfig(paths, { ...meta, hbaWritten }, user);
}

async function createApplicationRole(paths: ClusterPaths, meta: ClusterMeta): Promise<void> {
  await withAdminClient(paths, meta, async (client) => {
    // trust: the one generic login role. cert: a group role owning the data; users join it.
    await client.query(`CREATE ROLE ${APP_ROLE} ${meta.auth === 'trust' ? 'LOGIN' : 'NOLOGIN'} CREATEDB`);
    await client.query(`CREATE DATABASE ${APP_DATABASE} OWNER ${APP_ROLE}`);
  });
}

/** Starts the server, and its announcer for `home` (default: resolveHome()). */
export async function start(
  data: string,
  home?: string,
): Promise<{ pid: number; meta: ClusterMeta; limit: ConnectionLimit; notes: string[]; announcerPid?: number }> {
  const { paths, meta, user } = openCluster(data);
  // A start that is refused (already running, port taken) must leave every file as it was.
  await checkCanStart(paths, meta);
  // Rewrite kiln.conf: the open-files limit of this start decides max_connections.
  const written = await writeServerConfig(paths, meta, user);
  const pid = await startServer(paths, written.meta, user);
  return { pid, ...written, announcerPid: startAnnouncer(paths, home ?? resolveHome()) };
}

/** Stops the announcer (its goodbyes go out first), then the server. */
export async function stop(data: string): Promise<boolean> {
  const { paths, meta, user } = openCluster(data);
  await stopAnnouncer(paths);
  return stopServer(paths, meta, user);
}

/** Removes the cluster: its data directory, and the relocated copy a symlink points to. */
export async function destroy(data: string): Promise<void> {
  const { paths, meta, user } = openCluster(data);
  await stopAnnouncer(paths);
  await stopServer(paths, meta, user);
  if (paths.isSymlinked()) rmSync(paths.requested, { force: true });
  rmSync(paths.dataDir, { recursive: true, force: true });
  const socketDir = paths.socketDir(meta.port);
  if (socketDir !== paths.dataDir) rmSync(socketDir, { recursive: true, force: true });
}

function validatePort(port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new UserError(`invalid port "${port}": must be an integer from 1 to 65535`, { field: 'port' });
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
  if (readRunningState(paths).running) {
    // Running already (`kiln db start` earlier): its announcer too, unless it has ended.
    startAnnouncer(paths, options.home ?? resolveHome());
    return { created: false, started: false };
  }
  await start(options.data, options.home);
  return { created: false, started: true };
}
