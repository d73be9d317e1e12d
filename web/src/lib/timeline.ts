import type { TaskRun } from '../../../src/contract/index.js';

/** One bar of the per-worker timeline: a run of a task, placed in 0..1 of the time axis. */
interface TimelineBar {
  taskId: string;
  left: number;
  width: number;
  outcome: string;
  /** Title text: when, how long, how it ended. */
  title: string;
}

export interface TimelineLane {
  worker: string;
  bars: TimelineBar[];
}

/**
 * Lays out a job's runs as one lane per worker along a shared time axis, from the first start to
 * the last end (running runs end at `now`). Runs without a start are left out.
 */
export function layoutTimeline(
  runs: readonly TaskRun[],
  now: number,
  taskNames: ReadonlyMap<string, string>,
): { lanes: TimelineLane[]; start: number; end: number } {
  const placed = runs
    .filter((run) => run.startedAt)
    .map((run) => ({
      run,
      from: Date.parse(run.startedAt as string),
      to: run.finishedAt ? Date.parse(run.finishedAt) : now,
    }));
  if (placed.length === 0) return { lanes: [], start: now, end: now };
  const start = Math.min(...placed.map((p) => p.from));
  const end = Math.max(start + 1000, ...placed.map((p) => p.to));
  const span = end - start;
  const lanes = new Map<string, TimelineLane>();
  for (const { run, from, to } of placed) {
    const worker = run.workerName ?? run.workerId ?? 'unknown';
    let lane = lanes.get(worker);
    if (!lane) {
      lane = { worker, bars: [] };
      lanes.set(worker, lane);
    }
    const seconds = ((to - from) / 1000).toFixed(1);
    lane.bars.push({
      taskId: run.taskId,
      left: (from - start) / span,
      width: Math.max(0.002, (to - from) / span),
      outcome: run.outcome,
      title: `${taskNames.get(run.taskId) ?? run.taskId}: ${seconds} s, ${run.outcome}`,
    });
  }
  return { lanes: [...lanes.values()].sort((a, b) => a.worker.localeCompare(b.worker)), start, end };
}
