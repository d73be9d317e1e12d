import { spawn } from 'node:child_process';
import { readFileSync, existsSync, mkdirSync, chownSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ServerUser } from './server-user.js';
import type { ClusterMeta, ClusterPaths } from './cluster.js';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a PostgreSQL tool, as the server user when there is one (never through a shell). */
export function runAs(
  user: ServerUser | undefined,
  file: string,
  args: string[],
  options: { cwd?: string } = {},
): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd ?? '/',
      uid: user?.uid,
      gid: user?.gid,
      env: {
        ...process.env,
        LC_ALL: 'C',
        ...(user ? { HOME: '/nonexistent', USER: user.name, LOGNAME: user.name } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

export interface RunningState {
  running: boolean;
  pid?: number;
}

/** Reads postmaster.pid and checks that the process is alive. */
export function readRunningState(paths: ClusterPaths): RunningState {
  if (!existsSync(paths.pidFile)) return { running: false };
  const pid = Number(readFileSync(paths.pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return { running: false };
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return { running: false };
  }
  // A stale pid file can name a reused pid: make sure it is a postgres process.
  try {
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!command.includes('postgres')) return { running: false };
  } catch {
    // no /proc (macOS): trust the signal check
  }
  return { running: true, pid };
}

/** Fails with a clear message when another program already listens on the port. */
export async function checkPortFree(port: number, listen: string[]): Promise<void> {
  const hosts = listen.includes('*') ? ['0.0.0.0'] : listen.map((host) => (host === 'localhost' ? '127.0.0.1' : host));
  for (const host of hosts) {
    await new Promise<void>((resolvePromise, reject) => {
      const server = createServer();
      server.once('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'EADDRINUSE')
          reject(
            new UserError(
              `port ${port} is already in use on ${host}; pick another with --port or stop the program using it`,
              { field: 'port', code: 'port_in_use' },
            ),
          );
        else if (error.code === 'EADDRNOTAVAIL')
          reject(
            new UserError(`cannot listen on ${host}: no interface of this host has that address`, {
              field: 'listen',
              code: 'invalid_listen',
            }),
          );
        else reject(error);
      });
      server.listen({ port, host, exclusive: true }, () => server.close(() => resolvePromise()));
    });
  }
}

/** The checks a start makes before touching anything: not running already, and the port free. */
export async function checkCanStart(paths: ClusterPaths, meta: ClusterMeta): Promise<void> {
  const state = readRunningState(paths);
  if (state.running)
    throw new UserError(`the database is already running (pid ${state.pid}, port ${meta.port})`, {
      code: 'already_running',
    });
  await checkPortFree(meta.port, meta.listen);
}

export async function startServer(
  paths: ClusterPaths,
  meta: ClusterMeta,
  user: ServerUser | undefined,
): Promise<number> {
  await checkCanStart(paths, meta);
  const socketDir = paths.socketDir(meta.port);
  for (const dir of [join(paths.dataDir, 'log'), socketDir]) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (user) chownSync(dir, user.uid, user.gid);
  }
  const pgCtl = join(meta.binaries.bindir, 'pg_ctl');
  // After a crash (SIGKILL of the postmaster) its children may take a moment to exit and
  // release shared memory; pg_ctl then fails at once, so try again for a few seconds.
  let last: RunResult | undefined;
  for (let attempt = 0; attempt < 10; attempt++) {
    last = await runAs(user, pgCtl, ['start', '-D', paths.dataDir, '-l', paths.log, '-w', '-t', '60', '-s'], {
      cwd: paths.dataDir,
    });
    if (last.code === 0) break;
    if (!/shared memory|lock file|already in use/i.test(`${last.stderr}${tailLog(paths)}`)) break;
    await sleep(500);
  }
  if (last?.code !== 0) {
    throw new Error(
      `PostgreSQL did not start: ${(last?.stderr.trim() || tailLog(paths)).split('\n').slice(-3).join(' | ')} (log: ${paths.log})`,
    );
  }
  return readRunningState(paths).pid ?? 0;
}

export async function stopServer(
  paths: ClusterPaths,
  meta: ClusterMeta,
  user: ServerUser | undefined,
): Promise<boolean> {
  if (!readRunningState(paths).running) return false;
  const result = await runAs(
    user,
    join(meta.binaries.bindir, 'pg_ctl'),
    ['stop', '-D', paths.dataDir, '-m', 'fast', '-w', '-t', String(60), '-s'],
    {
      cwd: paths.dataDir,
    },
  );
  if (result.code !== 0 && readRunningState(paths).running)
    throw new Error(`PostgreSQL did not stop: ${result.stderr.trim()}`);
  return true;
}

function tailLog(paths: ClusterPaths, lines = 5): string {
  try {
    return readFileSync(paths.log, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
