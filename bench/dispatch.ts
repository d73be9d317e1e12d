import { loadavg } from 'node:os';
import { withBenchCluster, processCpuSeconds, type BenchCluster } from './cluster.js';
import { startManagerProcess, registerWorkers, submitFrames, drain, trickle, warmUp, WARM_UP_TASKS } from './kiln.js';
import {
  graphileDrain,
  graphileTrickle,
  pgBossDrain,
  pgBossTrickle,
  type GraphileSettings,
  type PgBossSettings,
  type PeerLatency,
} from './peers.js';
import { fmt, median, ms, percentile } from './stats.js';
import { adjacentPairs, runTwoManagers, twoToOneLine } from './dispatch-two.js';

const BUDGET_MS = 300_000;
const WORKERS = 100;
const KILN_TRICKLE = 300;
const GRAPHILE_TRICKLE = 300;
const PGBOSS_TRICKLE = 20;

const GRAPHILE_DEFAULTS: GraphileSettings = {
  label: 'graphile-worker 0.17.3, defaults, concurrency 100 (pool 10)',
  processes: 1,
  concurrency: 100,
};
const GRAPHILE_TUNED: GraphileSettings = {
  label: 'graphile-worker 0.17.3, batch-tuned: 2 proc x conc 24, pool 25, localQueue 500, complete/failJobBatchDelay 0',
  processes: 2,
  concurrency: 24,
  maxPoolSize: 25,
  localQueueSize: 500,
  completeJobBatchDelay: 0,
};
const PGBOSS_100: PgBossSettings = {
  label: 'pg-boss 10.4.2, 10 work() x batchSize 10 = 100 in flight, poll 0.5 s',
  loops: 10,
  batchSize: 10,
  pollingIntervalSeconds: 0.5,
  window: 2000,
};
const PGBOSS_BATCH: PgBossSettings = {
  label: 'pg-boss 10.4.2, 10 work() x batchSize 100 = 1,000 in flight, poll 0.5 s',
  loops: 10,
  batchSize: 100,
  pollingIntervalSeconds: 0.5,
};

type SystemKey = 'kiln' | 'kiln-2' | 'graphile' | 'graphile-tuned' | 'pgboss' | 'pgboss-batch';

const SHORT: Record<SystemKey, string> = {
  kiln: 'Kiln',
  'kiln-2': 'Kiln, two managers',
  graphile: 'graphile-worker defaults',
  'graphile-tuned': 'graphile-worker tuned',
  pgboss: 'pg-boss, 100 in flight',
  'pgboss-batch': 'pg-boss, 1,000 in flight',
};

interface Sample {
  rate: number;
  p50?: number;
  p99?: number;
  /** CPU ms per task: [workers' or manager's process(es), benchmark client, PostgreSQL]. */
  cpu: [number | undefined, number | undefined, number];
  note?: string;
}

interface Latency {
  p50: number;
  p99: number;
  sendP50: number;
}

/** What the runs collect, by system, for the table at the end. */
interface Results {
  tasks: number;
  samples: Map<SystemKey, Sample[]>;
  latencies: Map<SystemKey, Latency[]>;
  problems: string[];
  /** Two managers / one, per adjacent pair of runs: the rounds' pairs, then the extra ones. */
  twoToOne: number[];
}

interface System {
  key: SystemKey;
  label: string;
  /** One run; returns its line of the progress log. */
  run: (cluster: BenchCluster) => Promise<string>;
}

const push = <T>(map: Map<SystemKey, T[]>, key: SystemKey, value: T): void =>
  void map.set(key, [...(map.get(key) ?? []), value]);

/** The values that are there. */
const present = (values: ReadonlyArray<number | undefined>): number[] =>
  values.filter((value): value is number => value !== undefined);

/**
 * `npm run bench -- dispatch`: tasks per second through the real worker protocol, against
 * graphile-worker 0.17.3 and pg-boss 10.4.2 on the same PostgreSQL cluster (each system in its
 * own database), alternating systems round by round; medians are reported.
 *
 * Kiln: the manager runs in a child process (its own event loop and CPU accounting); 100
 * simulated workers in this process speak HTTP/1.1 keep-alive to it, each looping: long-poll
 * for a task, complete it at once. 20,000 tasks (one echo-sleep job, frames 1-20000, chunk 1)
 * are queued before the workers start.
 *
 * Latency, two cases (both reported, named in the table):
 *  - queued: a worker's task request sent → its task received, while tasks wait in the queue;
 *  - trickle: every worker waits in a long poll; one-task jobs are submitted one at a time;
 *    submit acknowledged (201 received) → a worker received the task. For the peers the same:
 *    add acknowledged → handler started, one job at a time, idle workers.
 *
 * CPU per task is read from /proc (manager, PostgreSQL's backends) and process.cpuUsage()
 * (this process, the peers' worker processes over their whole life): a guide to where time goes.
 *
 * Warm-up: every system first runs WARM_UP_TASKS jobs unmeasured (each Kiln manager process as
 * many), so the figures are steady state, not a fresh process's JIT warm-up.
 *
 * Two managers: the same drain with two manager processes on one database, 50 workers on each
 * (bench/dispatch-two.ts); the table prints it beside one manager, and their ratio.
 *
 * Environment: KILN_BENCH_ROUNDS (default 2, or 3 when they fit in ~5 minutes),
 * KILN_BENCH_TASKS (20000), KILN_BENCH_PAIRS (8: adjacent runs of one and two managers for their
 * ratio, the rounds' included), KILN_BENCH_ONLY=kiln,kiln-2,graphile,graphile-tuned,pgboss,pgboss-batch
 * (a subset), KILN_BENCH_PROF=DIR (CPU profiles of the manager processes).
 */
export async function benchDispatch(): Promise<void> {
  // Rounds: KILN_BENCH_ROUNDS, else 2, and a third when the first two left time in ~5 minutes.
  const fixedRounds = process.env.KILN_BENCH_ROUNDS ? Number(process.env.KILN_BENCH_ROUNDS) : undefined;
  const results: Results = {
    tasks: Number(process.env.KILN_BENCH_TASKS ?? 20_000),
    samples: new Map(),
    latencies: new Map(),
    problems: [],
    twoToOne: [],
  };
  const systems = chooseSystems(results);
  const started = performance.now();
  const load0 = loadAverage();
  const rounds = await runRounds(results, systems, fixedRounds, started);
  console.log(
    `\ndispatch results: medians of ${rounds} runs (${((performance.now() - started) / 1000).toFixed(0)} s in all; load average before ${load0}, after ${loadAverage()})`,
  );
  printTable(results, systems);
  printDetails(results, systems);
}

/** Every system, or those of KILN_BENCH_ONLY=kiln,graphile (for profiling); the table shows what ran. */
function chooseSystems(results: Results): System[] {
  const systems: System[] = [
    { key: 'kiln', label: 'Kiln (manager in a child process, 100 HTTP workers)', run: (c) => runKiln(results, c) },
    {
      key: 'kiln-2',
      label: 'Kiln, two manager processes on one database, 50 HTTP workers each, tasks submitted through one',
      run: (c) => runKilnTwo(results, c),
    },
    { key: 'graphile', label: GRAPHILE_DEFAULTS.label, run: graphileRun(results, GRAPHILE_DEFAULTS, 'graphile') },
    { key: 'graphile-tuned', label: GRAPHILE_TUNED.label, run: graphileRun(results, GRAPHILE_TUNED, 'graphile-tuned') },
    { key: 'pgboss', label: PGBOSS_100.label, run: pgBossRun(results, PGBOSS_100, 'pgboss') },
    { key: 'pgboss-batch', label: PGBOSS_BATCH.label, run: pgBossRun(results, PGBOSS_BATCH, 'pgboss-batch') },
  ];
  const only = process.env.KILN_BENCH_ONLY?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return only?.length ? systems.filter(({ key }) => only.includes(key)) : systems;
}

/** Runs the systems round by round, alternating their order; returns how many rounds ran. */
async function runRounds(
  results: Results,
  systems: System[],
  fixedRounds: number | undefined,
  started: number,
): Promise<number> {
  let rounds = 0;
  await withBenchCluster(async (cluster) => {
    console.log(
      `dispatch: ${fmt(results.tasks)} no-op tasks queued first, ${WORKERS} workers (or the peer's equivalent); systems alternating, round by round`,
    );
    for (let round = 0; ; round++) {
      const elapsed = performance.now() - started;
      if (
        fixedRounds !== undefined
          ? round >= fixedRounds
          : round >= 3 || (round >= 2 && elapsed + elapsed / round > BUDGET_MS)
      )
        break;
      rounds = round + 1;
      const order = round % 2 === 0 ? systems : [...systems].reverse();
      for (const { key, run } of order) {
        const text = await run(cluster);
        console.log(`  round ${round + 1}  ${key.padEnd(15)} ${text}`);
      }
    }
    await runExtraPairs(results, systems, cluster);
    if (systems.some(({ key }) => key === 'pgboss')) {
      const boss = await pgBossTrickle(cluster, PGBOSS_100, PGBOSS_TRICKLE);
      push(results.latencies, 'pgboss', summarize(boss));
    }
  });
  return rounds;
}

/** One Kiln run: drain the queued tasks, then the trickle; returns its line of the progress log. */
async function runKiln(results: Results, cluster: BenchCluster): Promise<string> {
  const { tasks, problems } = results;
  const manager = await startManagerProcess(cluster, { maxSockets: 1000 });
  try {
    const { workers } = await registerWorkers(manager, WORKERS);
    await warmUp(manager, workers, WARM_UP_TASKS);
    const job = await submitFrames(manager, `1-${tasks}`, 'dispatch');
    const before = {
      manager: processCpuSeconds(manager.pid),
      client: process.cpuUsage(),
      pg: cluster.cpuSeconds(),
      stats: await manager.stats(),
    };
    let after: { manager: number; client: NodeJS.CpuUsage; pg: number } | undefined;
    const result = await drain(workers, tasks, {
      waitMs: 2000,
      onTarget: () =>
        (after = {
          manager: processCpuSeconds(manager.pid),
          client: process.cpuUsage(before.client),
          pg: cluster.cpuSeconds(),
        }),
    });
    const stats = await manager.stats();
    if (result.errors.length) problems.push(`Kiln drain: ${result.errors.length} errors, e.g. ${result.errors[0]}`);
    if (!after) throw new Error(`Kiln drain ended before ${tasks} tasks were completed, so its CPU was not measured`);
    const rate = tasks / result.seconds;
    const perTask = (seconds: number): number => (seconds * 1000) / tasks;
    const rounds = stats.rounds - before.stats.rounds;
    const p50 = percentile(result.requestToTaskMs, 50);
    const p99 = percentile(result.requestToTaskMs, 99);
    const updateBatches = stats.updateBatches - before.stats.updateBatches;
    const note = `submit ${Math.round(job.ms)} ms; ${rounds} scheduling rounds, ${(tasks / rounds).toFixed(1)} tasks/round; ${updateBatches} update batches`;
    push(results.samples, 'kiln', {
      rate,
      p50,
      p99,
      cpu: [
        perTask(after.manager - before.manager),
        perTask((after.client.user + after.client.system) / 1e6),
        perTask(after.pg - before.pg),
      ],
      note,
    });
    const tr = await trickle(manager, workers, KILN_TRICKLE);
    if (tr.errors.length) problems.push(`Kiln trickle: ${tr.errors.length} errors, e.g. ${tr.errors[0]}`);
    push(results.latencies, 'kiln', {
      p50: percentile(tr.ackToTaskMs, 50),
      p99: percentile(tr.ackToTaskMs, 99),
      sendP50: percentile(tr.sendToTaskMs, 50),
    });
    const logged = manager.problems();
    const [firstLogged] = logged;
    if (firstLogged !== undefined)
      problems.push(`Kiln manager logged ${logged.length} warnings/errors, first: ${firstLogged.slice(0, 400)}`);
    return `${fmt(rate)} tasks/s, queued request→task p50 ${ms(p50)} p99 ${ms(p99)}; trickle ack→task p50 ${ms(percentile(tr.ackToTaskMs, 50))} p99 ${ms(percentile(tr.ackToTaskMs, 99))}; ${note}`;
  } finally {
    await manager.close();
  }
}

/** Two managers on one database (bench/dispatch-two.ts); returns its line of the progress log. */
async function runKilnTwo(results: Results, cluster: BenchCluster): Promise<string> {
  const run = await runTwoManagers(cluster, results.tasks, WORKERS);
  results.problems.push(...run.problems);
  push(results.samples, 'kiln-2', { rate: run.rate, p50: run.p50, p99: run.p99, cpu: run.cpu, note: run.note });
  push(results.latencies, 'kiln-2', run.trickle);
  return `${fmt(run.rate)} tasks/s, queued request→task p50 ${ms(run.p50)} p99 ${ms(run.p99)}; trickle across managers ack→task p50 ${ms(run.trickle.p50)} p99 ${ms(run.trickle.p99)}`;
}

function graphileRun(results: Results, settings: GraphileSettings, key: SystemKey): System['run'] {
  return async (cluster) => {
    const run = await graphileDrain(cluster, settings, results.tasks, WARM_UP_TASKS);
    if (run.errors.length) results.problems.push(`${settings.label}: ${run.errors[0]}`);
    push(results.samples, key, {
      rate: run.jobsPerSecond,
      cpu: [(run.workerCpuSeconds * 1000) / run.jobs, undefined, (run.postgresCpuSeconds * 1000) / run.jobs],
    });
    let text = `${fmt(run.jobsPerSecond)} jobs/s`;
    if (key === 'graphile') {
      const latency = await graphileTrickle(cluster, settings.concurrency, GRAPHILE_TRICKLE);
      push(results.latencies, key, summarize(latency));
      text += `; trickle add-ack→start p50 ${ms(summarize(latency).p50)} p99 ${ms(summarize(latency).p99)}`;
    }
    return text;
  };
}

function pgBossRun(results: Results, settings: PgBossSettings, key: SystemKey): System['run'] {
  return async (cluster) => {
    const run = await pgBossDrain(cluster, settings, results.tasks, WARM_UP_TASKS);
    if (run.errors.length) results.problems.push(`${settings.label}: ${run.errors[0]}`);
    push(results.samples, key, {
      rate: run.jobsPerSecond,
      cpu: [(run.workerCpuSeconds * 1000) / run.jobs, undefined, (run.postgresCpuSeconds * 1000) / run.jobs],
    });
    return `${fmt(run.jobsPerSecond)} jobs/s${settings.window ? ` (over the first ${fmt(run.jobs)} jobs of ${fmt(results.tasks)} queued)` : ''}`;
  };
}

const rateOf = (results: Results, key: SystemKey): number =>
  median((results.samples.get(key) ?? []).map((s) => s.rate));

/**
 * More adjacent runs of one and two managers after the rounds (KILN_BENCH_PAIRS pairs in all,
 * default 8; see adjacentPairs). Their runs count only in the two-to-one ratio, not in the table.
 */
async function runExtraPairs(results: Results, systems: System[], cluster: BenchCluster): Promise<void> {
  const [one, two] = [results.samples.get('kiln') ?? [], results.samples.get('kiln-2') ?? []];
  results.twoToOne.push(...two.flatMap((run, i) => (one[i] ? [run.rate / one[i].rate] : [])));
  if (!systems.some(({ key }) => key === 'kiln') || !systems.some(({ key }) => key === 'kiln-2')) return;
  const rateOfRun = (key: SystemKey, run: typeof runKiln) => async (): Promise<number> => {
    const scratch: Results = { ...results, samples: new Map(), latencies: new Map(), twoToOne: [] };
    await run(scratch, cluster);
    return scratch.samples.get(key)?.[0]?.rate ?? Number.NaN;
  };
  const runs = { one: rateOfRun('kiln', runKiln), two: rateOfRun('kiln-2', runKilnTwo) };
  await adjacentPairs(results.twoToOne, Number(process.env.KILN_BENCH_PAIRS ?? 8), runs);
}

/** The table: throughput medians; latency medians, each row saying what its latency is. */
function printTable(results: Results, systems: System[]): void {
  const line = '-'.repeat(132);
  console.log(line);
  console.log(
    `${'system'.padEnd(26)} ${'jobs/s'.padStart(8)} ${'p50'.padStart(10)} ${'p99'.padStart(10)}   latency is`,
  );
  console.log(line);
  const row = (name: string, jobs: string, p50: string, p99: string, what: string): void =>
    console.log(`${name.padEnd(26)} ${jobs.padStart(8)} ${p50.padStart(10)} ${p99.padStart(10)}   ${what}`);
  for (const { key } of systems) {
    const runs = results.samples.get(key) ?? [];
    const lat = results.latencies.get(key);
    const name = SHORT[key];
    const rate = fmt(rateOf(results, key));
    if (key === 'kiln' || key === 'kiln-2') {
      row(
        name,
        rate,
        ms(median(present(runs.map((s) => s.p50)))),
        ms(median(present(runs.map((s) => s.p99)))),
        `queued: worker's request sent → task received, ${fmt(results.tasks)} tasks queued`,
      );
      if (lat)
        row(
          name,
          '',
          ms(median(lat.map((l) => l.p50))),
          ms(median(lat.map((l) => l.p99))),
          key === 'kiln'
            ? `trickle: submit acknowledged → task received, all workers waiting (${KILN_TRICKLE}/run)`
            : 'trickle across managers: submit acknowledged by one → task received by a worker of the other (100/run)',
        );
    } else if (lat) {
      row(
        name,
        rate,
        ms(median(lat.map((l) => l.p50))),
        ms(median(lat.map((l) => l.p99))),
        `trickle: add acknowledged → handler started, idle workers (${key === 'pgboss' ? `${PGBOSS_TRICKLE}, once` : `${GRAPHILE_TRICKLE}/run`})`,
      );
    } else row(name, rate, '-', '-', '(throughput only)');
  }
  console.log(line);
}

/** Under the table: each system's runs, Kiln's ratio to each peer, CPU per task, problems seen. */
function printDetails(results: Results, systems: System[]): void {
  for (const { key, label } of systems) {
    const runs = results.samples.get(key) ?? [];
    const lat = results.latencies.get(key);
    console.log(`${SHORT[key].padEnd(26)} ${label}`);
    console.log(
      `${''.padEnd(26)} runs: ${runs.map((s) => fmt(s.rate)).join(', ')} jobs/s${lat ? `; trickle p50 measured from the send instead of the ack: ${ms(median(lat.map((l) => l.sendP50)))}` : ''}`,
    );
  }
  console.log('Kiln ratio to each peer (jobs/s medians):');
  for (const { key, label } of systems.filter(({ key }) => key !== 'kiln' && key !== 'kiln-2'))
    console.log(`  ${(rateOf(results, 'kiln') / rateOf(results, key)).toFixed(2)}x  ${label}`);
  if (results.samples.has('kiln') && results.samples.has('kiln-2'))
    console.log(twoToOneLine(rateOf(results, 'kiln-2') / rateOf(results, 'kiln'), results.twoToOne));
  console.log('CPU ms per task (medians): system process(es) / benchmark client / PostgreSQL');
  for (const { key } of systems) {
    const runs = results.samples.get(key) ?? [];
    const part = (i: 0 | 1 | 2): string => {
      const values = present(runs.map((s) => s.cpu[i]));
      return values.length === 0 ? '-' : median(values).toFixed(3);
    };
    console.log(
      `  ${SHORT[key].padEnd(26)} ${part(0)} / ${part(1)} / ${part(2)}${key === 'kiln' || key === 'kiln-2' ? `   (${runs.map((s) => s.note).join('; ')})` : ''}`,
    );
  }
  if (results.problems.length) {
    console.log('Problems seen:');
    for (const problem of results.problems) console.log(`  ${problem}`);
  } else console.log('Problems seen: none (no request errors, nothing logged at warn or above by the manager)');
}

/** The 1-minute load average: this machine is shared, and it shows. */
export const loadAverage = (): string => {
  const [oneMinute = 0] = loadavg();
  return oneMinute.toFixed(1);
};

function summarize(latency: PeerLatency): Latency {
  return {
    p50: percentile(latency.ackToStartMs, 50),
    p99: percentile(latency.ackToStartMs, 99),
    sendP50: percentile(latency.sendToStartMs, 50),
  };
}
