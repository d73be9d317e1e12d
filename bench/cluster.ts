import { mkdtempSync, rmSync, chmodSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import * as igniter from '../src/db/igniter.js';
import { ADMIN_ROLE, APP_ROLE } from '../src/db/cluster.js';
import { freePort } from '../src/testing/temp.js';

/** One PostgreSQL cluster for a benchmark: a temp dir, a free port on 127.0.0.1, trust auth. */
export interface BenchCluster {
  home: string;
  port: number;
  /** The postmaster's pid, for CPU accounting. */
  pid: number;
  createDatabase(name: string): Promise<string>;
  dropDatabase(name: string): Promise<void>;
  /** CPU seconds used by the server and its backends so far (live backends + reaped ones). */
  cpuSeconds(): number;
}

const cleanups = new Set<() => Promise<void>>();
let signalsHooked = false;

/** Ctrl-C during a benchmark still stops the server and removes its files. */
function hookSignals(): void {
  if (signalsHooked) return;
  signalsHooked = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void (async () => {
        for (const cleanup of [...cleanups].reverse()) await cleanup().catch(() => undefined);
        process.exit(130);
      })();
    });
  }
}

/** Registers a cleanup that also runs on Ctrl-C; returns a function that runs and unregisters it. */
export function onCleanup(fn: () => Promise<void>): () => Promise<void> {
  hookSignals();
  cleanups.add(fn);
  return async () => {
    cleanups.delete(fn);
    await fn();
  };
}

export async function withBenchCluster<T>(fn: (cluster: BenchCluster) => Promise<T>): Promise<T> {
  const home = mkdtempSync(join(tmpdir(), 'kiln-bench-'));
  chmodSync(home, 0o755);
  const data = join(home, 'db');
  const cleanup = onCleanup(async () => {
    await igniter.destroy(data).catch(() => undefined);
    rmSync(home, { recursive: true, force: true });
  });
  try {
    const port = await freePort();
    // clients: 30 → max_connections 307: the manager's pool, the peers' pools, the benchmark's.
    const init = await igniter.initCluster({ data, port, auth: 'trust', clients: 30, listen: ['127.0.0.1'] });
    // The superuser: DROP ... WITH (FORCE) must be able to end any backend (autovacuum's too).
    const { pid } = init;
    if (pid === undefined)
      throw new Error('the benchmark cluster was initialised but its server did not start (no pid)');
    const admin = () => new pg.Client({ host: '127.0.0.1', port, user: ADMIN_ROLE, database: 'postgres' });
    const cluster: BenchCluster = {
      home,
      port,
      pid,
      async createDatabase(name) {
        const client = admin();
        await client.connect();
        try {
          await client.query(`CREATE DATABASE ${name} OWNER ${APP_ROLE}`);
        } finally {
          await client.end();
        }
        return `postgresql://${APP_ROLE}@127.0.0.1:${port}/${name}`;
      },
      async dropDatabase(name) {
        const client = admin();
        await client.connect();
        try {
          await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        } finally {
          await client.end();
        }
      },
      cpuSeconds: () => postgresCpuSeconds(pid),
    };
    return await fn(cluster);
  } finally {
    await cleanup();
  }
}

const TICKS = 100; // USER_HZ on Linux

function statFields(pid: number | string): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** utime+stime(+cutime+cstime) of the postmaster and utime+stime of its live children. */
function postgresCpuSeconds(postmaster: number): number {
  let ticks = 0;
  const own = statFields(postmaster);
  // After ')': state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14)
  if (own) ticks += Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(entry);
    if (fields && Number(fields[1]) === postmaster) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / TICKS;
}

/** CPU seconds of one process (utime+stime), from /proc. */
export function processCpuSeconds(pid: number): number {
  const fields = statFields(pid);
  return fields ? (Number(fields[11]) + Number(fields[12])) / TICKS : 0;
}

/** Resident set size of a process in MiB (VmRSS), and its peak (VmHWM). */
export function processRss(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}
