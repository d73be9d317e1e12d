import { deriveJobStatus, type FailurePolicy } from '../state/job-status.js';
import type { JobStatus } from '../state/statuses.js';
import type { Trx } from '../persistence/schema/database.js';
import { updateTasks, type TaskChange } from '../persistence/task-changes.js';
import { countsOf } from '../persistence/schema/tables.js';
import { fetchJob, moveJob } from '../persistence/jobs.js';
import { recountPendingDependencies } from '../persistence/tasks.js';
import { clearBlocklist } from '../persistence/workers.js';
import { canJobTransition } from '../state/transitions.js';
import { FINAL_JOB_STATUSES } from '../state/statuses.js';
import type { JobRow } from '../persistence/schema/tables.js';

interface JobChange {
  jobId: string;
  from: JobStatus;
  to: JobStatus;
  activity: string;
}

export interface SyncResult {
  jobs: JobChange[];
  tasks: TaskChange[];
}

/**
 * After tasks changed, brings each touched job's status in line with its task counters
 * (deriveJobStatus). A job that fails cancels what is left of it. `current` holds job rows
 * this transaction already locked and holds up to date (as applyCountChanges returns them).
 */
export async function syncJobs(
  trx: Trx,
  jobIds: Iterable<string>,
  policy: FailurePolicy,
  current?: ReadonlyMap<string, JobRow>,
): Promise<SyncResult> {
  const result: SyncResult = { jobs: [], tasks: [] };
  for (const jobId of [...new Set(jobIds)].sort()) {
    const job = current?.get(jobId) ?? (await fetchJob(trx, jobId, { forUpdate: true }));
    const next = deriveJobStatus(job.status, countsOf(job), policy);
    if (next === job.status) continue;
    let activity = job.activity;
    if (next === 'failed') {
      activity = `failed: ${job.count_failed} of ${job.task_count} tasks failed`;
      result.tasks.push(...(await cancelRemainingTasks(trx, jobId)));
    } else if (next === 'completed') activity = `completed ${job.task_count} tasks`;
    else if (next === 'paused' || next === 'canceled') activity = next;
    await moveJob(trx, jobId, job.status, next, activity);
    result.jobs.push({ jobId, from: job.status, to: next, activity });
  }
  return result;
}

/** Fails a job outright (e.g. no capable worker is left) and cancels its unfinished tasks. */
export async function failJob(trx: Trx, jobId: string, reason: string): Promise<SyncResult> {
  const job = await fetchJob(trx, jobId, { forUpdate: true });
  if (!canJobTransition(job.status, 'failed') || job.status === 'failed') return { jobs: [], tasks: [] };
  const tasks = await cancelRemainingTasks(trx, jobId);
  await moveJob(trx, jobId, job.status, 'failed', reason);
  return { jobs: [{ jobId, from: job.status, to: 'failed', activity: reason }], tasks };
}

/**
 * Requeues a job: its unfinished tasks (every task, when it had completed) are queued
 * again with their failure history and the job's blocklist cleared. The job passes through
 * `requeueing` on its way back to `queued`, as the transition table asks.
 */
export async function requeueJob(trx: Trx, job: JobRow, activity: string): Promise<SyncResult> {
  const statuses =
    job.status === 'completed'
      ? (['completed', 'failed', 'canceled', 'soft-failed', 'paused', 'queued'] as const)
      : (['failed', 'canceled', 'soft-failed', 'paused', 'queued'] as const);
  await moveJob(trx, job.id, job.status, 'requeueing', 'requeueing');
  const tasks = await updateTasks(
    trx,
    { jobId: job.id, statuses },
    { status: 'queued', workerId: null, clearFailedBy: true, progress: 0, activity: '' },
  );
  await recountPendingDependencies(trx, job.id);
  await clearBlocklist(trx, job.id);
  await moveJob(trx, job.id, 'requeueing', 'queued', activity);
  return { tasks, jobs: [{ jobId: job.id, from: job.status, to: 'queued', activity }] };
}

/** A finished job one of whose tasks is requeued goes back to `queued`, through `requeueing`. */
export async function reopenJob(trx: Trx, job: JobRow, activity: string): Promise<SyncResult> {
  if (!FINAL_JOB_STATUSES.includes(job.status)) return { jobs: [], tasks: [] };
  await moveJob(trx, job.id, job.status, 'requeueing', 'requeueing');
  await moveJob(trx, job.id, 'requeueing', 'queued', activity);
  return { jobs: [{ jobId: job.id, from: job.status, to: 'queued', activity }], tasks: [] };
}

/** Unfinished tasks of a job become canceled; running ones learn it from may-I-keep-running. */
function cancelRemainingTasks(trx: Trx, jobId: string): Promise<TaskChange[]> {
  return updateTasks(trx, { jobId, statuses: ['queued', 'soft-failed', 'paused', 'active'] }, { status: 'canceled' });
}

export function mergeSync(into: SyncResult, more: SyncResult): SyncResult {
  into.jobs.push(...more.jobs);
  into.tasks.push(...more.tasks);
  return into;
}
