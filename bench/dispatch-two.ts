import { processCpuSeconds, type BenchCluster } from './cluster.js';
import {
  startManagerProcess,
  registerWorkers,
  submitFrames,
  drain,
  trickle,
  warmUp,
  WARM_UP_TASKS,
  type ManagerProcess,
} from './kiln.js';
import { fmt, median, percentile } from './stats.js';

/** One run of two Kiln managers on one database, in the figures the dispatch table shows. */
export interface TwoManagerRun {
  rate: number;
  p50: number;
  p99: number;
  /** CPU ms per task: both managers / benchmark client / PostgreSQL. */
  cpu: [number, number, number];
  /** Trickle across managers: submit acknowledged by one manager → task received by a worker of the other. */
  trickle: { p50: number; p99: number; sendP50: number };
  problems: string[];
  note: string;
}

/**
 * Two manager processes serve one farm (one database): half the simulated workers long-poll each,
 * the tasks are submitted through the first, and every worker drains them as in the one-manager
 * run. Then the trickle: only the second manager's workers wait, one-task jobs are submitted through
 * the first, so each task reaches its worker by the wake-up over NOTIFY.
 */
export async function runTwoManagers(
  cluster: BenchCluster,
  tasks: number,
  workerCount: number,
): Promise<TwoManagerRun> {
  const first = await startManagerProcess(cluster, { maxSockets: 1000 });
  let second: ManagerProcess | undefined;
  try {
    const other = await startManagerProcess(cluster, { maxSockets: 1000, join: first });
    second = other;
    const half = Math.floor(workerCount / 2);
    const near = (await registerWorkers(first, half)).workers;
    const far = (await registerWorkers(other, workerCount - half)).workers;
    // Each manager process serves as many warm-up tasks as the one manager of the other run.
    await warmUp(first, [...near, ...far], WARM_UP_TASKS * 2);
    const job = await submitFrames(first, `1-${tasks}`, 'dispatch-two');
    const managersCpu = (): number => processCpuSeconds(first.pid) + processCpuSeconds(other.pid);
    const before = { managers: managersCpu(), client: process.cpuUsage(), pg: cluster.cpuSeconds() };
    const statsBefore = await Promise.all([first.stats(), other.stats()]);
    let after: { managers: number; client: NodeJS.CpuUsage; pg: number } | undefined;
    const result = await drain([...near, ...far], tasks, {
      waitMs: 2000,
      onTarget: () =>
        (after = { managers: managersCpu(), client: process.cpuUsage(before.client), pg: cluster.cpuSeconds() }),
    });
    if (!after) throw new Error(`the two-manager drain ended before ${tasks} tasks were completed`);
    const statsAfter = await Promise.all([first.stats(), other.stats()]);
    const rounds = statsAfter.map((s, i) => s.rounds - (statsBefore[i]?.rounds ?? 0));
    const updateBatches = statsAfter.map((s, i) => s.updateBatches - (statsBefore[i]?.updateBatches ?? 0));
    const notifies = statsAfter.map((s, i) => (s.notifies?.sent ?? 0) - (statsBefore[i]?.notifies?.sent ?? 0));
    const perTask = (seconds: number): number => (seconds * 1000) / tasks;
    const problems = result.errors.length
      ? [`Kiln, two managers, drain: ${result.errors.length} errors, e.g. ${result.errors[0]}`]
      : [];
    // Submissions through the first manager, waiting workers only on the second.
    const across: ManagerProcess = { ...first, stats: () => other.stats() };
    const tr = await trickle(across, far, 100);
    if (tr.errors.length)
      problems.push(`Kiln, two managers, trickle: ${tr.errors.length} errors, e.g. ${tr.errors[0]}`);
    for (const manager of [first, other]) {
      const [logged] = manager.problems();
      if (logged !== undefined) problems.push(`a Kiln manager of two logged: ${logged.slice(0, 400)}`);
    }
    return {
      rate: tasks / result.seconds,
      p50: percentile(result.requestToTaskMs, 50),
      p99: percentile(result.requestToTaskMs, 99),
      cpu: [
        perTask(after.managers - before.managers),
        perTask((after.client.user + after.client.system) / 1e6),
        perTask(after.pg - before.pg),
      ],
      trickle: {
        p50: percentile(tr.ackToTaskMs, 50),
        p99: percentile(tr.ackToTaskMs, 99),
        sendP50: percentile(tr.sendToTaskMs, 50),
      },
      problems,
      note: `two managers: submit ${Math.round(job.ms)} ms; scheduling rounds ${rounds.join(' + ')}, ${(tasks / rounds.reduce((a, b) => a + b, 0)).toFixed(1)} tasks/round; update batches ${updateBatches.join(' + ')}; NOTIFYs sent ${notifies.join(' + ')}`,
    };
  } finally {
    await second?.close();
    await first.close();
  }
}

/**
 * Adjacent runs of one and two managers, order alternating, until `ratios` (two / one, per pair)
 * holds `wanted` pairs: a pair's ratio varies by a quarter either way on a shared 2-core machine,
 * so a few pairs say little.
 */
export async function adjacentPairs(
  ratios: number[],
  wanted: number,
  runs: { one: () => Promise<number>; two: () => Promise<number> },
): Promise<void> {
  for (let pair = ratios.length; pair < wanted; pair++) {
    const oneFirst = pair % 2 === 0;
    const first = await (oneFirst ? runs.one : runs.two)();
    const second = await (oneFirst ? runs.two : runs.one)();
    const [one, two] = oneFirst ? [first, second] : [second, first];
    ratios.push(two / one);
    console.log(`  pair ${pair + 1}  one manager ${fmt(one)} tasks/s, two ${fmt(two)}: ${(two / one).toFixed(2)}x`);
  }
}

/**
 * Two managers against one: the ratio of the medians over the rounds, and the ratio within each
 * adjacent pair of runs (the machine's speed drifts by a third over minutes; a pair shares it), with
 * the median and the middle half of the pairs.
 */
export function twoToOneLine(roundsRatio: number, pairs: number[]): string {
  const spread = `middle half ${percentile(pairs, 25).toFixed(2)}-${percentile(pairs, 75).toFixed(2)}x`;
  const each = pairs.map((r) => `${r.toFixed(2)}x`).join(', ');
  return `Kiln, two managers on one database / one manager: ${roundsRatio.toFixed(2)}x over the rounds (target ≥ 1x); within each of ${pairs.length} adjacent pairs ${each}: median ${median(pairs).toFixed(2)}x, ${spread}`;
}
