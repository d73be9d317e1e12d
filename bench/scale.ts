import { withBenchCluster, processCpuSeconds } from './cluster.js';
import { startManagerProcess, registerWorkers, submitFrames, drain, type ManagerProcess } from './kiln.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { median, percentile } from './stats.js';
import { fmt, ms, loadAverage } from './dispatch.js';

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
  const WINDOWS = Number(process.env.KILN_BENCH_WINDOWS ?? 5);
  const HOLD_SECONDS = Number(process.env.KILN_BENCH_SCALE_SECONDS ?? 25);
  const BIG = 100_000;
  const SMALL = 1_000;
  const WORKERS = 100;
  const FLEET = 1_000;
  const problems: string[] = [];
  const started = performance.now();
  const load0 = loadAverage();

  await withBenchCluster(async (cluster) => {
    console.log('scale: one PostgreSQL cluster; each manager in a child process over its own database');

    // 1 and 2: the big manager and the small one, windows alternating.
    const big = await startManagerProcess(cluster, { maxSockets: 1000 });
    let small: ManagerProcess | undefined;
    const submits: number[] = [];
    const checks: number[] = [];
    const rates = { big: [] as number[], small: [] as number[] };
    const rounds = { big: [] as number[], small: [] as number[] };
    try {
      const { workers: bigWorkers } = await registerWorkers(big, WORKERS);
      const check = async (): Promise<number> => {
        const start = performance.now();
        const response = await big.client.request('POST', '/api/v1/jobs/check', {
          name: 'check',
          type: 'echo-sleep',
          settings: { message: 'bench' },
          frames: `1-${BIG}`,
          chunkSize: 1,
        });
        if (response.status !== 200 || response.body.taskCount !== BIG)
          throw new Error(`check: ${response.status} ${JSON.stringify(response.body).slice(0, 300)}`);
        return performance.now() - start;
      };
      checks.push(await check());
      const first = await submitFrames(big, `1-${BIG}`, 'big');
      if (first.taskCount !== BIG) throw new Error(`the big job has ${first.taskCount} tasks`);
      submits.push(first.ms);
      console.log(`  submit of ${fmt(BIG)} tasks: ${ms(first.ms)} (compile only, /jobs/check: ${ms(checks[0]!)})`);

      small = await startManagerProcess(cluster, { maxSockets: 1000 });
      const { workers: smallWorkers } = await registerWorkers(small, WORKERS);
      const window = async (
        manager: ManagerProcess,
        workers: typeof bigWorkers,
      ): Promise<{ rate: number; perRound: number }> => {
        const before = await manager.stats();
        const result = await drain(workers, SMALL, { waitMs: 2000 });
        const after = await manager.stats();
        if (result.errors.length) problems.push(`window: ${result.errors.length} errors, e.g. ${result.errors[0]}`);
        const at = result.completedAt;
        return {
          rate: 800 / ((at[899]! - at[99]!) / 1000),
          perRound: (after.assigned - before.assigned) / Math.max(1, after.rounds - before.rounds),
        };
      };
      for (let w = 0; w < WINDOWS; w++) {
        const b = await window(big, bigWorkers);
        rates.big.push(b.rate);
        rounds.big.push(b.perRound);
        await submitFrames(small, `1-${SMALL}`, `small-${w}`);
        const s = await window(small, smallWorkers);
        rates.small.push(s.rate);
        rounds.small.push(s.perRound);
        console.log(
          `  window ${w + 1}: ${fmt(BIG - (w + 1) * SMALL)}+ queued ${fmt(b.rate)} tasks/s (${b.perRound.toFixed(1)} tasks/round)   ${fmt(SMALL)} queued ${fmt(s.rate)} tasks/s (${s.perRound.toFixed(1)} tasks/round)`,
        );
      }
      // Two more submits of 100,000 tasks, for a median.
      for (let i = 0; i < 2; i++) {
        checks.push(await check());
        submits.push((await submitFrames(big, `1-${BIG}`, `big-${i + 2}`)).ms);
      }
      for (const [name, manager] of [
        ['100k manager', big],
        ['1k manager', small],
      ] as const) {
        const logged = manager.problems();
        if (logged.length)
          problems.push(`${name} logged ${logged.length} warnings/errors, first: ${logged[0]!.slice(0, 400)}`);
      }
    } finally {
      await small?.close();
      await big.close();
    }

    // 3: a fleet of 1,000 workers signed on and heartbeating.
    const fleet = await startManagerProcess(cluster, { maxSockets: 5000 });
    let fleetReport: string[] = [];
    try {
      const rssAtStart = fleet.rss();
      const registered = await registerWorkers(fleet, FLEET, 50);
      const rssSamples: number[] = [];
      const stateMs: number[] = [];
      const taskLateMs: number[] = [];
      const errors: string[] = [];
      let stopped = false;
      const sampler = setInterval(() => rssSamples.push(fleet.rss().rss), 500);
      const cpu0 = processCpuSeconds(fleet.pid);
      const stats0 = await fleet.stats();
      const t0 = performance.now();
      const deadline = t0 + HOLD_SECONDS * 1000;
      const WAIT = 5000;
      await Promise.all(
        registered.workers.map(async (worker, i) => {
          // Long polls: the worker's way of saying "ready" and of heartbeating.
          const polls = (async () => {
            await sleep((i / FLEET) * WAIT);
            while (!stopped && performance.now() < deadline) {
              const sent = performance.now();
              try {
                const task = await worker.next(WAIT);
                if (task) await worker.complete(task.id);
                else taskLateMs.push(performance.now() - sent - WAIT);
              } catch (error) {
                errors.push(String(error));
                await sleep(500);
              }
            }
          })();
          // State polls every ~3 s, spread evenly.
          const states = (async () => {
            await sleep((i / FLEET) * 3000);
            while (!stopped && performance.now() < deadline) {
              const sent = performance.now();
              try {
                const response = await worker.call('GET', '/worker/state');
                if (response.status !== 200) throw new Error(`state: ${response.status}`);
                stateMs.push(performance.now() - sent);
              } catch (error) {
                errors.push(String(error));
              }
              await sleep(3000 - ((performance.now() - sent) % 3000));
            }
          })();
          await Promise.all([polls, states]);
        }),
      );
      stopped = true;
      clearInterval(sampler);
      const elapsed = (performance.now() - t0) / 1000;
      const cpu = (processCpuSeconds(fleet.pid) - cpu0) / elapsed;
      const roundsPerSecond = ((await fleet.stats()).rounds - stats0.rounds) / elapsed;
      const rss = fleet.rss();
      const logged = fleet.problems();
      if (logged.length)
        problems.push(
          `1,000-worker manager logged ${logged.length} warnings/errors, first: ${logged[0]!.slice(0, 400)}`,
        );
      if (errors.length) problems.push(`1,000 workers: ${errors.length} request errors, e.g. ${errors[0]}`);
      const all = [...registered.registerMs, ...registered.signOnMs, ...stateMs];
      fleetReport = [
        `  ${fmt(FLEET)} workers: register p50 ${ms(percentile(registered.registerMs, 50))} p99 ${ms(percentile(registered.registerMs, 99))}; sign-on p50 ${ms(percentile(registered.signOnMs, 50))} p99 ${ms(percentile(registered.signOnMs, 99))} (50 at a time)`,
        `  then ${elapsed.toFixed(0)} s heartbeating: GET /worker/state ${fmt(stateMs.length)} calls p50 ${ms(percentile(stateMs, 50))} p99 ${ms(percentile(stateMs, 99))} max ${ms(Math.max(...stateMs))}`,
        `    task long polls (waitMs ${WAIT}, nothing queued): ${fmt(taskLateMs.length)} answered 204, lateness beyond waitMs p50 ${ms(percentile(taskLateMs, 50))} p99 ${ms(percentile(taskLateMs, 99))}`,
        `    API p99 over register + sign-on + state calls: ${ms(percentile(all, 99))}; manager CPU ${(cpu * 100).toFixed(0)}% of a core; ${fmt(roundsPerSecond)} scheduling rounds/s with nothing queued`,
        `  manager RSS: ${rssAtStart.rss.toFixed(0)} MiB idle before; ${Math.max(...rssSamples).toFixed(0)} MiB max while heartbeating (sampled every 0.5 s), peak (VmHWM) ${rss.peak.toFixed(0)} MiB`,
      ];
    } finally {
      await fleet.close();
    }

    console.log(
      `\nscale results (${((performance.now() - started) / 1000).toFixed(0)} s in all; load average before ${load0}, after ${loadAverage()})`,
    );
    console.log(
      `  submit of one ${fmt(BIG)}-task job (POST /jobs, compile + insert): median ${ms(median(submits))}   runs ${submits.map((v) => v.toFixed(0)).join(', ')} ms`,
    );
    console.log(
      `    compile only (POST /jobs/check): median ${ms(median(checks))}   runs ${checks.map((v) => v.toFixed(0)).join(', ')} ms`,
    );
    console.log(`  dispatch, ${WORKERS} workers, tasks 100-900 of 1,000-task windows, medians of ${WINDOWS}:`);
    console.log(
      `    ~100,000 queued: ${fmt(median(rates.big))} tasks/s   runs ${rates.big.map(fmt).join(', ')}   (${median(rounds.big).toFixed(1)} tasks/round)`,
    );
    console.log(
      `       1,000 queued: ${fmt(median(rates.small))} tasks/s   runs ${rates.small.map(fmt).join(', ')}   (${median(rounds.small).toFixed(1)} tasks/round)`,
    );
    console.log(`    ratio 100k / 1k: ${(median(rates.big) / median(rates.small)).toFixed(2)}x`);
    for (const line of fleetReport) console.log(line);
    if (problems.length) {
      console.log('Problems seen:');
      for (const problem of problems) console.log(`  ${problem}`);
    } else console.log('Problems seen: none (no request errors, nothing logged at warn or above by the managers)');
  });
}
