import type { JobStatus, TaskCounts } from './statuses.js';

export interface FailurePolicy {
  /** Distinct workers that may fail one task before it is failed for good. */
  maxWorkersPerTask: number;
  /** Tasks of one type a worker may fail in one job before it is blocklisted for them. */
  blocklistThreshold: number;
  /** Share of a job's tasks that, once failed, fails the job. */
  jobFailShare: number;
}

/**
 * A job's status from its tasks' counts: the one place that decides when a job is
 * active, completed, failed, paused or canceled. Pure, so it is tested as a table.
 */
export function deriveJobStatus(
  current: JobStatus,
  counts: TaskCounts,
  policy: Pick<FailurePolicy, 'jobFailShare'>,
): JobStatus {
  const total = Object.values(counts).reduce((sum, n) => sum + n, 0);
  if (total === 0) return current;
  // Requests resolve once nothing runs any more.
  if (current === 'cancel-requested') return counts.active === 0 ? 'canceled' : current;
  if (current === 'pause-requested') {
    if (counts.active > 0) return current;
    return counts.completed === total ? 'completed' : 'paused';
  }
  if (current === 'paused' || current === 'canceled' || current === 'requeueing') return current;
  if (current === 'completed' || current === 'failed') return current;

  if (counts.failed > 0 && counts.failed >= Math.max(1, Math.ceil(policy.jobFailShare * total))) return 'failed';
  if (counts.completed === total) return 'completed';
  const finished = counts.completed + counts.failed + counts.canceled;
  if (finished === total) return counts.failed > 0 ? 'failed' : counts.completed > 0 ? 'completed' : 'canceled';
  if (counts.active > 0 || counts.completed > 0 || counts['soft-failed'] > 0 || counts.failed > 0) return 'active';
  return 'queued';
}

/** What a task failure by one worker leads to (the counts are after this failure). */
export function taskStatusAfterFailure(
  distinctWorkersFailed: number,
  policy: Pick<FailurePolicy, 'maxWorkersPerTask'>,
): 'soft-failed' | 'failed' {
  return distinctWorkersFailed >= policy.maxWorkersPerTask ? 'failed' : 'soft-failed';
}

export function shouldBlocklist(
  tasksOfTypeFailedByWorker: number,
  policy: Pick<FailurePolicy, 'blocklistThreshold'>,
): boolean {
  return tasksOfTypeFailedByWorker >= policy.blocklistThreshold;
}
