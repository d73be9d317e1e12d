import { fork, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { makeWorkerUtils, Logger } from 'graphile-worker';
import PgBoss from 'pg-boss';
import { onCleanup, type BenchCluster } from './cluster.js';
import type { PeerCommand, PeerMessage } from './peer-child.js';

const silent = new Logger(() => () => undefined);
const clock = (): number => performance.timeOrigin + performance.now();

export interface PeerRun {
  jobs: number;
  jobsPerSecond: number;
  /** CPU seconds of the peer's worker processes and of PostgreSQL during the run. */
  workerCpuSeconds: number;
  postgresCpuSeconds: number;
  errors: string[];
}

export interface PeerLatency {
  ackToStartMs: number[];
  sendToStartMs: number[];
}

interface PeerChild {
  process: ChildProcess;
  count: number;
  firstAt: number;
  lastAt: number;
  errors: string[];
  ready: Promise<void>;
  latency: Promise<PeerLatency>;
  stop(): Promise<number>;
}

function forkPeer(command: PeerCommand): PeerChild {
  const child = fork(fileURLToPath(new URL('./peer-child.js', import.meta.url)), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let resolveReady!: () => void;
  let resolveLatency!: (latency: PeerLatency) => void;
  let rejectAll!: (error: Error) => void;
  let resolveStopped: ((cpu: number) => void) | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    resolveReady = resolve;
    rejectAll = reject;
  });
  const latency = new Promise<PeerLatency>((resolve, reject) => {
    resolveLatency = resolve;
    const previous = rejectAll;
    rejectAll = (error) => {
      previous(error);
      reject(error);
    };
  });
  latency.catch(() => undefined);
  ready.catch(() => undefined);
  const state: PeerChild = {
    process: child,
    count: 0,
    firstAt: 0,
    lastAt: 0,
    errors: [],
    ready,
    latency,
    stop: () =>
      new Promise<number>((resolve) => {
        if (child.exitCode !== null) return resolve(0);
        resolveStopped = resolve;
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          resolve(0);
        }, 15_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve(0);
        });
        child.send({ type: 'stop' });
      }),
  };
  child.on('message', (message: PeerMessage) => {
    if (message.type === 'ready') resolveReady();
    else if (message.type === 'progress')
      Object.assign(state, { count: message.count, firstAt: message.firstAt, lastAt: message.lastAt });
    else if (message.type === 'latency')
      resolveLatency({ ackToStartMs: message.ackToStartMs, sendToStartMs: message.sendToStartMs });
    else if (message.type === 'stopped') resolveStopped?.(message.cpuSeconds);
    else if (message.type === 'error') {
      state.errors.push(message.message);
      rejectAll(new Error(message.message));
    }
  });
  child.on('exit', (code) => rejectAll(new Error(`peer process exited (${code})`)));
  child.send(command);
  return state;
}

async function withDatabase<T>(cluster: BenchCluster, name: string, fn: (url: string) => Promise<T>): Promise<T> {
  const teardown = onCleanup(() =>
    cluster
      .dropDatabase(name)
      .catch((error: unknown) => console.warn(`  (could not drop database ${name}: ${String(error)})`)),
  );
  try {
    return await fn(await cluster.createDatabase(name));
  } finally {
    await teardown();
  }
}

/** Counts the jobs not yet completed, over one connection of the benchmark's own. */
async function withRemaining<T>(
  url: string,
  sql: string,
  params: unknown[],
  fn: (remaining: () => Promise<number>) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(async () => {
      const [row] = (await client.query<{ n: number }>(sql, params)).rows;
      if (!row) throw new Error(`the count query returned no row: ${sql}`);
      return row.n;
    });
  } finally {
    await client.end();
  }
}

/**
 * Starts the worker processes on an already-filled queue and times them: from the first job
 * started to the queue being empty in the database (or, with `window`, over the first `window`
 * jobs started, for peers too slow to drain 20,000 jobs in a benchmark's time).
 */
async function timeWorkers(
  cluster: BenchCluster,
  commands: PeerCommand[],
  jobs: number,
  remaining: () => Promise<number>,
  window?: number,
  warm = 0,
): Promise<PeerRun> {
  const children = commands.map(forkPeer);
  const killAll = onCleanup(async () => {
    for (const child of children) if (child.process.exitCode === null) child.process.kill('SIGKILL');
  });
  try {
    let pg0 = cluster.cpuSeconds();
    // The clock starts once the warm-up jobs have started (all systems measured warm alike).
    let warmAt: number | undefined;
    const target = (window ?? jobs) + warm;
    const deadline = Date.now() + 300_000;
    const sum = () => children.reduce((total, child) => total + child.count, 0);
    while (sum() < target) {
      for (const child of children) if (child.errors.length) throw new Error(`peer failed: ${child.errors[0]}`);
      if (Date.now() > deadline) throw new Error(`peer did not finish: ${sum()} of ${target} jobs`);
      if (warm > 0 && warmAt === undefined && sum() >= warm) {
        warmAt = clock();
        pg0 = cluster.cpuSeconds();
      }
      await sleep(2);
    }
    const firstAt = warmAt ?? Math.min(...children.filter((child) => child.firstAt).map((child) => child.firstAt));
    let end: number;
    let done: number;
    if (window) {
      done = sum() - warm;
      end = Math.max(...children.map((child) => child.lastAt));
    } else {
      // Every job has started; the run ends when the last completion is committed.
      while ((await remaining()) > 0) {
        if (Date.now() > deadline) throw new Error('peer jobs never completed');
        await sleep(2);
      }
      end = clock();
      done = jobs;
    }
    const postgresCpuSeconds = cluster.cpuSeconds() - pg0;
    let workerCpuSeconds = 0;
    for (const child of children) workerCpuSeconds += await child.stop();
    // The workers' CPU is read at their end, warm-up included: per job it counts every job they ran.
    workerCpuSeconds *= done / (done + warm);
    return {
      jobs: done,
      jobsPerSecond: done / ((end - firstAt) / 1000),
      workerCpuSeconds,
      postgresCpuSeconds,
      errors: children.flatMap((child) => child.errors),
    };
  } finally {
    await killAll();
  }
}

export interface GraphileSettings {
  label: string;
  processes: number;
  concurrency: number;
  maxPoolSize?: number;
  localQueueSize?: number;
  completeJobBatchDelay?: number;
}

let databases = 0;
const dbName = (prefix: string): string => `${prefix}_${process.pid}_${++databases}`;

/** graphile-worker: `jobs` no-op jobs added first (add_jobs in batches), then the workers start. */
export function graphileDrain(
  cluster: BenchCluster,
  settings: GraphileSettings,
  jobs: number,
  warm = 0,
): Promise<PeerRun> {
  return withDatabase(cluster, dbName('bench_graphile'), async (url) => {
    const utils = await makeWorkerUtils({ connectionString: url, logger: silent });
    try {
      await utils.migrate();
      for (let start = 0; start < jobs + warm; start += 5000) {
        await utils.addJobs(
          Array.from({ length: Math.min(5000, jobs + warm - start) }, () => ({ identifier: 'noop', payload: {} })),
        );
      }
    } finally {
      await utils.release();
    }
    const command: PeerCommand = {
      type: 'graphile-work',
      connectionString: url,
      concurrency: settings.concurrency,
      maxPoolSize: settings.maxPoolSize,
      localQueueSize: settings.localQueueSize,
      completeJobBatchDelay: settings.completeJobBatchDelay,
    };
    return withRemaining(url, 'SELECT count(*)::int AS n FROM graphile_worker._private_jobs', [], (remaining) =>
      timeWorkers(
        cluster,
        Array.from({ length: settings.processes }, () => command),
        jobs,
        remaining,
        undefined,
        warm,
      ),
    );
  });
}

/** graphile-worker latency: one job added at a time to an idle pool; add acknowledged → handler started. */
export function graphileTrickle(cluster: BenchCluster, concurrency: number, samples: number): Promise<PeerLatency> {
  return withDatabase(cluster, dbName('bench_graphile'), async (url) => {
    const utils = await makeWorkerUtils({ connectionString: url, logger: silent });
    await utils.migrate();
    await utils.release();
    const child = forkPeer({ type: 'graphile-trickle', connectionString: url, concurrency, samples });
    try {
      return await child.latency;
    } finally {
      await child.stop();
    }
  });
}

export interface PgBossSettings {
  label: string;
  loops: number;
  batchSize: number;
  pollingIntervalSeconds: number;
  /** Time only the first `window` jobs (pg-boss at 100 in flight is bound by its polling). */
  window?: number;
}

async function pgBossQueue(url: string, queue: string, jobs: number): Promise<void> {
  const boss = new PgBoss({ connectionString: url, supervise: false, schedule: false });
  boss.on('error', () => undefined);
  await boss.start();
  try {
    await boss.createQueue(queue);
    for (let start = 0; start < jobs; start += 2000) {
      await boss.insert(Array.from({ length: Math.min(2000, jobs - start) }, () => ({ name: queue, data: {} })));
    }
  } finally {
    await boss.stop({ graceful: false, wait: true });
  }
}

/** pg-boss 10: `jobs` jobs inserted first (in batches), then `loops` work() loops of batchSize each. */
export function pgBossDrain(cluster: BenchCluster, settings: PgBossSettings, jobs: number, warm = 0): Promise<PeerRun> {
  return withDatabase(cluster, dbName('bench_pgboss'), async (url) => {
    const queue = 'noop';
    await pgBossQueue(url, queue, jobs + warm);
    const command: PeerCommand = {
      type: 'pgboss-work',
      connectionString: url,
      queue,
      loops: settings.loops,
      batchSize: settings.batchSize,
      pollingIntervalSeconds: settings.pollingIntervalSeconds,
    };
    return withRemaining(
      url,
      "SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND state < 'completed'",
      [queue],
      (remaining) => timeWorkers(cluster, [command], jobs, remaining, settings.window, warm),
    );
  });
}

/** pg-boss latency: one job sent at a time to idle workers; send acknowledged → handler started. */
export function pgBossTrickle(cluster: BenchCluster, settings: PgBossSettings, samples: number): Promise<PeerLatency> {
  return withDatabase(cluster, dbName('bench_pgboss'), async (url) => {
    const queue = 'noop';
    await pgBossQueue(url, queue, 0);
    const child = forkPeer({
      type: 'pgboss-trickle',
      connectionString: url,
      queue,
      loops: settings.loops,
      batchSize: settings.batchSize,
      pollingIntervalSeconds: settings.pollingIntervalSeconds,
      samples,
    });
    try {
      return await child.latency;
    } finally {
      await child.stop();
    }
  });
}
