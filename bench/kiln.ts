import { fork, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { mkdtempSync, chmodSync, rmSync, readFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ManagerConfig } from '../src/manager/config.js';
import { HttpClient, SimWorker, eachLimit, type AssignedTask } from './http.js';
import { onCleanup, processRss, type BenchCluster } from './cluster.js';

interface ManagerStats {
  cpu: { user: number; system: number };
  memory: NodeJS.MemoryUsage;
  rounds: number;
  assigned: number;
  waiting: number;
  /** Batches of task updates applied (group commits). */
  updateBatches: number;
  /** Messages the manager's farm link sent and received (several managers on one database). */
  notifies?: { sent: number; received: number };
}

/** A Kiln manager in a child process, over its own fresh database in the bench cluster. */
export interface ManagerProcess {
  url: string;
  /** Its database (another manager may join it: several managers of one farm). */
  databaseUrl: string;
  farmSecret: string;
  pid: number;
  client: HttpClient;
  stats(): Promise<ManagerStats>;
  rss(): { rss: number; peak: number };
  /** Warnings and errors the manager logged so far. */
  problems(): string[];
  close(): Promise<void>;
}

let counter = 0;

export async function startManagerProcess(
  cluster: BenchCluster,
  options: {
    overrides?: Partial<ManagerConfig>;
    maxSockets?: number;
    /** Serve the farm of this manager (its database) instead of a fresh one; the database stays. */
    join?: ManagerProcess;
  } = {},
): Promise<ManagerProcess> {
  const dbName = `kiln_bench_${process.pid}_${++counter}`;
  const joined = options.join;
  const home = mkdtempSync(join(tmpdir(), 'kiln-bench-manager-'));
  chmodSync(home, 0o755);
  const logFile = join(home, 'manager.log');
  let child: ChildProcess | undefined;
  let closed = false;
  const teardown = onCleanup(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    if (!joined) await cluster.dropDatabase(dbName).catch(() => undefined);
    rmSync(home, { recursive: true, force: true });
  });
  try {
    const databaseUrl = joined ? joined.databaseUrl : await cluster.createDatabase(dbName);
    // KILN_BENCH_PROF=DIR: write a CPU profile of each manager process into DIR.
    const profDir = process.env.KILN_BENCH_PROF;
    if (profDir && !existsSync(profDir)) mkdirSync(profDir, { recursive: true });
    const execArgv = profDir ? ['--cpu-prof', '--cpu-prof-dir', profDir] : [];
    child = fork(fileURLToPath(new URL('./manager-child.js', import.meta.url)), [], {
      execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const running = child;
    // biome-ignore lint/suspicious/noExplicitAny: whatever the child answered; ask<T> names what each request gets back
    const pending = new Map<number, { resolve: (value: any) => void; reject: (error: Error) => void }>();
    let nextId = 0;
    running.on('message', (message: { id: number; error?: string }) => {
      const waiter = pending.get(message.id);
      if (!waiter) return;
      pending.delete(message.id);
      if (message.error) waiter.reject(new Error(`manager process: ${message.error}`));
      else waiter.resolve(message);
    });
    running.on('exit', (code) => {
      for (const waiter of pending.values()) waiter.reject(new Error(`manager process exited (${code})`));
      pending.clear();
    });
    const ask = <T>(body: Record<string, unknown>): Promise<T> =>
      new Promise((resolve, reject) => {
        const id = ++nextId;
        pending.set(id, { resolve, reject });
        running.send({ id, ...body });
      });
    const started = await ask<{ url: string; farmSecret: string }>({
      type: 'start',
      home,
      databaseUrl,
      logFile,
      overrides: options.overrides,
    });
    const { pid } = running;
    if (pid === undefined) throw new Error('the manager process answered but has no pid');
    const client = new HttpClient(started.url, { maxSockets: options.maxSockets });
    return {
      url: started.url,
      databaseUrl,
      farmSecret: started.farmSecret,
      pid,
      client,
      stats: () => ask<ManagerStats>({ type: 'stats' }),
      rss: () => processRss(pid),
      problems: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').filter(Boolean) : []),
      async close() {
        if (closed) return;
        closed = true;
        client.close();
        if (running.exitCode === null) {
          const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
          await Promise.race([ask({ type: 'close' }).catch(() => undefined), sleep(10_000)]);
          await Promise.race([exited, sleep(5_000)]);
        }
        await teardown();
      },
    };
  } catch (error) {
    await teardown();
    throw error;
  }
}

/** Registers and signs on `count` simulated workers, `concurrency` at a time; returns them and each call's latency. */
export async function registerWorkers(
  manager: ManagerProcess,
  count: number,
  concurrency = 20,
): Promise<{ workers: SimWorker[]; registerMs: number[]; signOnMs: number[] }> {
  const workers = Array.from({ length: count }, (_, i) => new SimWorker(manager.client, `bench-${i + 1}`));
  const registerMs: number[] = [];
  const signOnMs: number[] = [];
  await eachLimit(workers, concurrency, async (worker) => {
    let start = performance.now();
    await worker.register(manager.farmSecret);
    registerMs.push(performance.now() - start);
    start = performance.now();
    await worker.signOn();
    signOnMs.push(performance.now() - start);
  });
  return { workers, registerMs, signOnMs };
}

/** Submits an echo-sleep job of one task per frame; returns its id and how long the API took. */
export async function submitFrames(
  manager: ManagerProcess,
  frames: string,
  name = 'bench',
): Promise<{ id: string; ms: number; taskCount: number }> {
  const start = performance.now();
  const response = await manager.client.request('POST', '/api/v1/jobs', {
    name,
    type: 'echo-sleep',
    settings: { message: 'bench' },
    frames,
    chunkSize: 1,
  });
  const ms = performance.now() - start;
  if (response.status !== 201) throw new Error(`submit: ${response.status} ${JSON.stringify(response.body)}`);
  return { id: response.body.id, ms, taskCount: response.body.taskCount };
}

/**
 * Tasks every manager process serves before a measured drain: a farm's manager runs for days, so
 * the figure is its steady state, with V8's compiled hot paths (a fresh process spends its first
 * thousands of tasks in the interpreter and the compiler, and two fresh managers each pay that).
 * The peers get as many warm-up jobs.
 */
export const WARM_UP_TASKS = 5000;

/** Runs `tasks` tasks through the workers, unmeasured, submitted through `manager`. */
export async function warmUp(manager: ManagerProcess, workers: SimWorker[], tasks: number): Promise<void> {
  await submitFrames(manager, `1-${tasks}`, 'warm-up');
  const { errors } = await drain(workers, tasks, { waitMs: 300 });
  if (errors.length) throw new Error(`the warm-up drain met ${errors.length} errors, e.g. ${errors[0]}`);
}

export interface DrainResult {
  tasks: number;
  seconds: number;
  /** Worker's request sent → task received, for requests answered with a task. */
  requestToTaskMs: number[];
  /** When each completion was acknowledged, ms after the loops started. */
  completedAt: number[];
  errors: string[];
}

/**
 * Every worker loops: long-poll for a task, complete it at once while asking for the next one in
 * the same request (POST /worker/tasks/:id/finish), repeat; until `target` tasks have been handed
 * out (tasks already asked for are still completed, the last ones with a plain update, so that no
 * completion's acknowledgement waits in a long poll for a task that will not come). The clock runs from the
 * loops' start to the target-th completion acknowledged. Polls outstanding when the target is
 * reached are left to time out (waitMs).
 */
export async function drain(
  workers: SimWorker[],
  target: number,
  options: { waitMs?: number; onTarget?: () => void } = {},
): Promise<DrainResult> {
  const waitMs = options.waitMs ?? 2000;
  const requestToTaskMs: number[] = [];
  const completedAt: number[] = [];
  const errors: string[] = [];
  let assigned = 0;
  const start = performance.now();
  const completed = (): void => {
    completedAt.push(performance.now() - start);
    if (completedAt.length === target) options.onTarget?.();
  };
  const failed = (error: unknown): void => {
    errors.push(String(error));
    if (errors.length > 100) throw new Error(`too many errors: ${errors.slice(0, 3).join('; ')}`);
  };
  await Promise.all(
    workers.map(async (worker) => {
      let held: AssignedTask | undefined;
      while (assigned < target || held) {
        const sent = performance.now();
        let task: AssignedTask | undefined;
        try {
          if (!held) task = await worker.next(waitMs);
          else if (target - assigned > 2 * workers.length) {
            // The completion and the next request in one round trip.
            task = await worker.finish(held.id, waitMs);
            completed();
          } else {
            // The last tasks: a long poll after the completion would hold its acknowledgement until
            // it times out if no task is left for it. Up to one task per worker may be on its way
            // here (not yet counted) and one request per worker competes for the rest, hence the
            // margin of twice the workers; with one, a finish request sometimes found nothing left
            // and its acknowledgement came after the whole long poll (2 s on a 3 s drain).
            await worker.complete(held.id);
            completed();
          }
        } catch (error) {
          failed(error);
          held = undefined;
          continue;
        }
        held = undefined;
        if (!task) continue;
        assigned += 1;
        requestToTaskMs.push(performance.now() - sent);
        held = task;
      }
    }),
  );
  const seconds = (completedAt[Math.min(target, completedAt.length) - 1] ?? performance.now() - start) / 1000;
  return { tasks: completedAt.length, seconds, requestToTaskMs, completedAt, errors };
}

export interface TrickleResult {
  /** Submit acknowledged (201 received) → a waiting worker received the task. */
  ackToTaskMs: number[];
  /** Submit sent → task received (includes the submit itself). */
  sendToTaskMs: number[];
  errors: string[];
}

/**
 * Ready-to-assigned latency when work trickles in: every worker long-polls (30 s waits); jobs of
 * one task are submitted one at a time, each once the previous one's task was completed and all
 * workers are waiting again.
 */
export async function trickle(manager: ManagerProcess, workers: SimWorker[], samples: number): Promise<TrickleResult> {
  const ackToTaskMs: number[] = [];
  const sendToTaskMs: number[] = [];
  const errors: string[] = [];
  const arrivals = new Map<string, number>();
  let completions = 0;
  let stopped = false;
  let wake: (() => void) | undefined;
  const changed = (): void => {
    wake?.();
    wake = undefined;
  };
  const until = async (condition: () => boolean, timeoutMs = 10_000): Promise<void> => {
    const deadline = performance.now() + timeoutMs;
    while (!condition()) {
      if (performance.now() > deadline) throw new Error('trickle: timed out waiting for a task');
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 50);
      });
    }
  };
  const loops = workers.map(async (worker) => {
    while (!stopped) {
      let task: AssignedTask | undefined;
      try {
        task = await worker.next(30_000);
      } catch (error) {
        if (!stopped) errors.push(String(error));
        continue;
      }
      if (!task) continue;
      arrivals.set(task.jobId, performance.now());
      changed();
      try {
        await worker.complete(task.id);
      } catch (error) {
        errors.push(String(error));
      }
      completions += 1;
      changed();
    }
  });
  try {
    for (let i = 0; i < samples; i++) {
      // Everyone is waiting in a long poll before the next task arrives.
      const deadline = performance.now() + 10_000;
      while ((await manager.stats()).waiting < workers.length) {
        if (performance.now() > deadline) throw new Error('trickle: workers did not all come back to wait');
        await sleep(1);
      }
      const sent = performance.now();
      const { id } = await submitFrames(manager, '1', `trickle-${i}`);
      const acked = performance.now();
      await until(() => arrivals.has(id) && completions === i + 1);
      const arrived = arrivals.get(id);
      if (arrived === undefined) throw new Error(`trickle: task of job ${id} counted as arrived but has no time`);
      ackToTaskMs.push(arrived - acked);
      sendToTaskMs.push(arrived - sent);
    }
  } finally {
    stopped = true;
    // The loops end when their polls do: closing the manager answers them.
    void Promise.all(loops);
  }
  return { ackToTaskMs, sendToTaskMs, errors };
}
