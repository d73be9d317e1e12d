import { withBenchCluster, processCpuSeconds, type BenchCluster } from './cluster.js';
import { startManagerProcess, registerWorkers, submitFrames, drain, type ManagerProcess } from './kiln.js';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SimWorker } from './http.js';
import { fmt, median, ms, percentile } from './stats.js';
import { loadAverage } from './dispatch.js';

const BIG = 100_000;
const SMALL = 1_000;
const WORKERS = 100;
const FLEET = 1_000;
/** The fleet's task long polls, in ms. */
const WAIT = 5000;

/** What parts 1 and 2 measure. */
interface QueueResults {
  /** POST /jobs of the big job, ms. */
  submits: number[];
  /** POST /jobs/check of the big job, ms. */
  checks: number[];
  rates: { big: number[]; small: number[] };
  rounds: { big: number[]; small: number[] };
}

/**
 * `npm run bench -- scale`: Kiln with a big queue and many workers, each manager in a child
 * process over its own database in one PostgreSQL cluster.
 *
 *  1. Submit: POST /jobs of one echo-sleep job, frames 1-100000 chunk 1 (100,000 tasks), timed
 *     at the client (validation + compile + insert + commit + answer); also POST /jobs/check
 *     (compile only). Three submits, median.
 *  2. Dispatch with 100,000 tasks queued vs 1,000 queued: two managers, 100 simulated workers
 *     each, windows alternating between them. A window: the workers (idle until then) loop
 *     request → complete until 1,000 tasks are done; the rate is taken over completions
 *     100..900 (ramp-up and tail left out). On the 100k manager the windows eat into the one
 *     big job (it stays above 90,000 queued); on the 1k manager each window first submits a
 *     fresh 1,000-task job.
 *  3. 1,000 workers register and sign on, then for ~25 s each keeps a task long poll open
 *     (waitMs 5000, answered 204 since nothing is queued) and asks GET /worker/state every
 *     ~3 s. Manager RSS from /proc/<pid>/status; API latency of those calls.
 *
 * Environment: KILN_BENCH_WINDOWS (default 5), KILN_BENCH_SCALE_SECONDS (25).
 */
export async function benchScale(): Promise<void> {
  const windows = Number(process.env.KILN_BENCH_WINDOWS ?? 5);
  const holdSeconds = Number(process.env.KILN_BENCH_SCALE_SECONDS ?? 25);
  const problems: string[] = [];
  const started = performance.now();
  const load0 = loadAverage();

  await withBenchCluster(async (cluster) => {
    console.log('scale: one PostgreSQL cluster; each manager in a child process over its own database');
    const queues = await benchQueues(cluster, windows, problems);
    const fleetReport = await benchFleet(cluster, holdSeconds, problems);

    console.log(
      `\nscale results (${((performance.now() - started) / 1000).toFixed(0)} s in all; load average before ${load0}, after ${loadAverage()})`,
    );
    printQueueResults(queues, windows);
    for (const line of fleetReport) console.log(line);
    if (problems.length) {
      console.log('Problems seen:');
      for (const problem of problems) console.log(`  ${problem}`);
    } else console.log('Problems seen: none (no request errors, nothing logged at warn or above by the managers)');
  });
}

/** 1 and 2: the big manager and the small one, windows alternating. */
async function benchQueues(cluster: BenchCluster, windows: number, problems: string[]): Promise<QueueResults> {
  const big = await startManagerProcess(cluster, { maxSockets: 1000 });
  let small: ManagerProcess | undefined;
  const results: QueueResults = {
    submits: [],
    checks: [],
    rates: { big: [], small: [] },
    rounds: { big: [], small: [] },
  };
  try {
    const { workers: bigWorkers } = await registerWorkers(big, WORKERS);
    const firstCheck = await checkBigJob(big);
    results.checks.push(firstCheck);
    const first = await submitFrames(big, `1-${BIG}`, 'big');
    if (first.taskCount !== BIG) throw new Error(`the big job has ${first.taskCount} tasks`);
    results.submits.push(first.ms);
    console.log(`  submit of ${fmt(BIG)} tasks: ${ms(first.ms)} (compile only, /jobs/check: ${ms(firstCheck)})`);

    small = await startManagerProcess(cluster, { maxSockets: 1000 });
    const { workers: smallWorkers } = await registerWorkers(small, WORKERS);
    for (let w = 0; w < windows; w++) {
      const b = await dispatchWindow(big, bigWorkers, problems);
      results.rates.big.push(b.rate);
      results.rounds.big.push(b.perRound);
      await submitFrames(small, `1-${SMALL}`, `small-${w}`);
      const s = await dispatchWindow(small, smallWorkers, problems);
      results.rates.small.push(s.rate);
      results.rounds.small.push(s.perRound);
      console.log(
        `  window ${w + 1}: ${fmt(BIG - (w + 1) * SMALL)}+ queued ${fmt(b.rate)} tasks/s (${b.perRound.toFixed(1)} tasks/round)   ${fmt(SMALL)} queued ${fmt(s.rate)} tasks/s (${s.perRound.toFixed(1)} tasks/round)`,
      );
    }
    // Two more submits of 100,000 tasks, for a median.
    for (let i = 0; i < 2; i++) {
      results.checks.push(await checkBigJob(big));
      results.submits.push((await submitFrames(big, `1-${BIG}`, `big-${i + 2}`)).ms);
    }
    noteLogged(problems, '100k manager', big);
    noteLogged(problems, '1k manager', small);
  } finally {
    await small?.close();
    await big.close();
  }
  return results;
}

/** POST /jobs/check of the big job (compile only); its time in ms. */
async function checkBigJob(manager: ManagerProcess): Promise<number> {
  const start = performance.now();
  const response = await manager.client.request('POST', '/api/v1/jobs/check', {
    name: 'check',
    type: 'echo-sleep',
    settings: { message: 'bench' },
    frames: `1-${BIG}`,
    chunkSize: 1,
  });
  if (response.status !== 200 || response.body.taskCount !== BIG)
    throw new Error(`check: ${response.status} ${JSON.stringify(response.body).slice(0, 300)}`);
  return performance.now() - start;
}

/** One window: the workers complete 1,000 tasks; the rate over completions 100..900. */
async function dispatchWindow(
  manager: ManagerProcess,
  workers: SimWorker[],
  problems: string[],
): Promise<{ rate: number; perRound: number }> {
  const before = await manager.stats();
  const result = await drain(workers, SMALL, { waitMs: 2000 });
  const after = await manager.stats();
  if (result.errors.length) problems.push(`window: ${result.errors.length} errors, e.g. ${result.errors[0]}`);
  const from = result.completedAt[99];
  const to = result.completedAt[899];
  return {
    // Fewer than 900 completions (errors): no rate.
    rate: from !== undefined && to !== undefined ? 800 / ((to - from) / 1000) : Number.NaN,
    perRound: (after.assigned - before.assigned) / Math.max(1, after.rounds - before.rounds),
  };
}

/** Adds what a manager logged at warn or above, if anything, to the problems seen. */
function noteLogged(problems: string[], name: string, manager: ManagerProcess): void {
  const logged = manager.problems();
  const [first] = logged;
  if (first !== undefined)
    problems.push(`${name} logged ${logged.length} warnings/errors, first: ${first.slice(0, 400)}`);
}

/** What the fleet's workers measure while they hold on. */
interface FleetSamples {
  stateMs: number[];
  taskLateMs: number[];
  errors: string[];
}

/** 3: a fleet of 1,000 workers signed on and heartbeating; returns the report's lines. */
async function benchFleet(cluster: BenchCluster, holdSeconds: number, problems: string[]): Promise<string[]> {
  const fleet = await startManagerProcess(cluster, { maxSockets: 5000 });
  try {
    const rssAtStart = fleet.rss();
    const registered = await registerWorkers(fleet, FLEET, 50);
    const rssSamples: number[] = [];
    const samples: FleetSamples = { stateMs: [], taskLateMs: [], errors: [] };
    const sampler = setInterval(() => rssSamples.push(fleet.rss().rss), 500);
    const cpu0 = processCpuSeconds(fleet.pid);
    const stats0 = await fleet.stats();
    const t0 = performance.now();
    const deadline = t0 + holdSeconds * 1000;
    await Promise.all(registered.workers.map((worker, i) => holdOn(worker, i, deadline, samples)));
    clearInterval(sampler);
    const elapsed = (performance.now() - t0) / 1000;
    const cpu = (processCpuSeconds(fleet.pid) - cpu0) / elapsed;
    const roundsPerSecond = ((await fleet.stats()).rounds - stats0.rounds) / elapsed;
    const rss = fleet.rss();
    noteLogged(problems, '1,000-worker manager', fleet);
    const { stateMs, taskLateMs, errors } = samples;
    if (errors.length) problems.push(`1,000 workers: ${errors.length} request errors, e.g. ${errors[0]}`);
    const all = [...registered.registerMs, ...registered.signOnMs, ...stateMs];
    return [
      `  ${fmt(FLEET)} workers: register p50 ${ms(percentile(registered.registerMs, 50))} p99 ${ms(percentile(registered.registerMs, 99))}; sign-on p50 ${ms(percentile(registered.signOnMs, 50))} p99 ${ms(percentile(registered.signOnMs, 99))} (50 at a time)`,
      `  then ${elapsed.toFixed(0)} s heartbeating: GET /worker/state ${fmt(stateMs.length)} calls p50 ${ms(percentile(stateMs, 50))} p99 ${ms(percentile(stateMs, 99))} max ${ms(Math.max(...stateMs))}`,
      `    task long polls (waitMs ${WAIT}, nothing queued): ${fmt(taskLateMs.length)} answered 204, lateness beyond waitMs p50 ${ms(percentile(taskLateMs, 50))} p99 ${ms(percentile(taskLateMs, 99))}`,
      `    API p99 over register + sign-on + state calls: ${ms(percentile(all, 99))}; manager CPU ${(cpu * 100).toFixed(0)}% of a core; ${fmt(roundsPerSecond)} scheduling rounds/s with nothing queued`,
      `  manager RSS: ${rssAtStart.rss.toFixed(0)} MiB idle before; ${Math.max(...rssSamples).toFixed(0)} MiB max while heartbeating (sampled every 0.5 s), peak (VmHWM) ${rss.peak.toFixed(0)} MiB`,
    ];
  } finally {
    await fleet.close();
  }
}

/** One worker of the fleet until the deadline: task long polls and state polls, starts spread evenly. */
async function holdOn(worker: SimWorker, i: number, deadline: number, samples: FleetSamples): Promise<void> {
  // Long polls: the worker's way of saying "ready" and of heartbeating.
  const polls = (async () => {
    await sleep((i / FLEET) * WAIT);
    while (performance.now() < deadline) {
      const sent = performance.now();
      try {
        const task = await worker.next(WAIT);
        if (task) await worker.complete(task.id);
        else samples.taskLateMs.push(performance.now() - sent - WAIT);
      } catch (error) {
        samples.errors.push(String(error));
        await sleep(500);
      }
    }
  })();
  // State polls every ~3 s, spread evenly.
  const states = (async () => {
    await sleep((i / FLEET) * 3000);
    while (performance.now() < deadline) {
      const sent = performance.now();
      try {
        const response = await worker.call('GET', '/worker/state');
        if (response.status !== 200) throw new Error(`state: ${response.status}`);
        samples.stateMs.push(performance.now() - sent);
      } catch (error) {
        samples.errors.push(String(error));
      }
      await sleep(3000 - ((performance.now() - sent) % 3000));
    }
  })();
  await Promise.all([polls, states]);
}

function printQueueResults({ submits, checks, rates, rounds }: QueueResults, windows: number): void {
  console.log(
    `  submit of one ${fmt(BIG)}-task job (POST /jobs, compile + insert): median ${ms(median(submits))}   runs ${submits.map((v) => v.toFixed(0)).join(', ')} ms`,
  );
  console.log(
    `    compile only (POST /jobs/check): median ${ms(median(checks))}   runs ${checks.map((v) => v.toFixed(0)).join(', ')} ms`,
  );
  console.log(`  dispatch, ${WORKERS} workers, tasks 100-900 of 1,000-task windows, medians of ${windows}:`);
  console.log(
    `    ~100,000 queued: ${fmt(median(rates.big))} tasks/s   runs ${rates.big.map(fmt).join(', ')}   (${median(rounds.big).toFixed(1)} tasks/round)`,
  );
  console.log(
    `       1,000 queued: ${fmt(median(rates.small))} tasks/s   runs ${rates.small.map(fmt).join(', ')}   (${median(rounds.small).toFixed(1)} tasks/round)`,
  );
  console.log(`    ratio 100k / 1k: ${(median(rates.big) / median(rates.small)).toFixed(2)}x`);
}
