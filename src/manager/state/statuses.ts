/** Every status a job, task and worker can have (ARCHITECTURE.md, Scheduling). */
export const JOB_STATUSES = [
  'under-construction', 'queued', 'active', 'paused', 'pause-requested', 'canceled', 'cancel-requested', 'completed', 'failed', 'requeueing',
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const TASK_STATUSES = ['queued', 'active', 'soft-failed', 'failed', 'completed', 'canceled', 'paused'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const WORKER_STATUSES = ['starting', 'awake', 'asleep', 'offline', 'error', 'restart'] as const;
export type WorkerStatus = (typeof WORKER_STATUSES)[number];

/** Tasks a worker may be given. */
export const RUNNABLE_TASK_STATUSES: readonly TaskStatus[] = ['queued', 'soft-failed'];
/** Tasks that will not run again unless requeued. */
export const FINAL_TASK_STATUSES: readonly TaskStatus[] = ['failed', 'completed', 'canceled'];
export const FINAL_JOB_STATUSES: readonly JobStatus[] = ['completed', 'failed', 'canceled'];

export type TaskCounts = Record<TaskStatus, number>;

export const emptyCounts = (): TaskCounts => ({ queued: 0, active: 0, 'soft-failed': 0, failed: 0, completed: 0, canceled: 0, paused: 0 });
