/**
 * The database's announcer: PostgreSQL cannot announce itself and `kiln db start` returns at
 * once, so the igniter starts a small detached Kiln process (`kiln db announce`) beside the
 * server. It announces `database` by multicast self-discovery and `_kiln-db._tcp` over DNS-SD,
 * and says goodbye when the server is gone or when it is told to stop (SIGTERM). Its pid and the
 * home it was started for are in `kiln-announcer.pid` in the data directory, its log in
 * `kiln-announcer.log`. Every start of the server (init, start, restart, the manager's embedded
 * cluster) starts one; every stop stops it first, so the goodbye precedes the shutdown.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../config/load.js';
import { dnsSdEnabled, selfDiscoveryEnabled } from '../discovery/find-manager.js';
import type { ClusterPaths } from './cluster.js';
import { DB_DEFAULTS, DbConfigSchema } from './config.js';

const KILN_MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));

function announcerPidFile(paths: ClusterPaths): string {
  return join(paths.dataDir, 'kiln-announcer.pid');
}

function announcerLogFile(paths: ClusterPaths): string {
  return join(paths.dataDir, 'kiln-announcer.log');
}

/** What the announcer of this home may announce: the switches and db.yaml `discovery`. */
export function announcerChannels(home: string, env: NodeJS.ProcessEnv = process.env) {
  const config = loadConfig('db', DbConfigSchema, DB_DEFAULTS, { home, env });
  return {
    multicast: selfDiscoveryEnabled(env) && config.discovery.enabled,
    dnsSd: dnsSdEnabled(env) && config.discovery.dns_sd,
  };
}

interface AnnouncerRecord {
  pid: number;
  home: string;
}

/** The running announcer of this cluster (a stale file, or one naming another program, is none). */
function runningAnnouncer(paths: ClusterPaths): AnnouncerRecord | undefined {
  let record: AnnouncerRecord;
  try {
    record = JSON.parse(readFileSync(announcerPidFile(paths), 'utf8')) as AnnouncerRecord;
  } catch {
    return undefined;
  }
  if (!Number.isInteger(record.pid) || record.pid <= 0 || !isAnnouncer(record.pid)) return undefined;
  return record;
}

function isAnnouncer(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('announce');
  } catch {
    return true; // no /proc (macOS): trust the signal check
  }
}

/**
 * Starts the announcer for a running server, unless one runs already or discovery is off
 * (the switches or db.yaml). Never fails the start of the database: the answer is the pid or
 * undefined.
 */
export function startAnnouncer(paths: ClusterPaths, home: string): number | undefined {
  try {
    const running = runningAnnouncer(paths);
    if (running) return running.pid;
    const channels = announcerChannels(home);
    if (!channels.multicast && !channels.dnsSd) return undefined;
    const log = openSync(announcerLogFile(paths), 'a', 0o600);
    try {
      const child = spawn(process.execPath, [KILN_MAIN, 'db', 'announce', '--data', paths.requested, '--home', home], {
        detached: true,
        stdio: ['ignore', log, log],
        cwd: '/',
        env: process.env,
      });
      child.unref();
      if (child.pid === undefined) return undefined;
      const record: AnnouncerRecord = { pid: child.pid, home };
      writeFileSync(announcerPidFile(paths), `${JSON.stringify(record)}\n`, { mode: 0o600 });
      return child.pid;
    } finally {
      closeSync(log);
    }
  } catch {
    return undefined;
  }
}

/**
 * Stops the announcer (SIGTERM: it sends its goodbyes) and waits for it to end, SIGKILL after
 * `timeoutMs`. The answer is the home it was started for, so a restart can start it again.
 */
export async function stopAnnouncer(paths: ClusterPaths, timeoutMs = 5_000): Promise<string | undefined> {
  const running = runningAnnouncer(paths);
  const file = announcerPidFile(paths);
  if (!running) {
    if (existsSync(file)) rmSync(file, { force: true });
    return undefined;
  }
  try {
    process.kill(running.pid, 'SIGTERM');
  } catch {
    // ended meanwhile
  }
  const deadline = Date.now() + timeoutMs;
  while (isAnnouncer(running.pid) && Date.now() < deadline) await sleep(50);
  if (isAnnouncer(running.pid)) {
    try {
      process.kill(running.pid, 'SIGKILL');
    } catch {
      // ended meanwhile
    }
  }
  rmSync(file, { force: true });
  return running.home;
}
