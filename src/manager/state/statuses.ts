/**
 * Every status a job, task and worker can have (ARCHITECTURE.md, Scheduling). Kiln compiles a
 * job before storing it and signs a worker on in one step, so the design's `under-construction`
 * (job) and `starting` (worker) are never reached and are not listed: a status here is one the
 * farm can really be in.
 */
export const JOB_STATUSES = [
  'queued',
  'active',
  'paused',
  'pause-requested',
  'canceled',
  'cancel-requested',
  'completed',
  'failed',
  'requeueing',
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const TASK_STATUSES = ['queued', 'active', 'soft-failed', 'failed', 'completed', 'canceled', 'paused'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const WORKER_STATUSES = ['awake', 'asleep', 'offline', 'error', 'restart'] as const;
export type WorkerStatus = (typeof WORKER_STATUSES)[number];

/**
 * Job statuses a job passes through inside one transaction only, so no reader ever sees them:
 * `requeueing` is where a job's tasks are reset before it is queued again.
 */
export const TRANSIENT_JOB_STATUSES = ['requeueing'] as const satisfies readonly JobStatus[];

export const FINAL_JOB_STATUSES: readonly JobStatus[] = ['completed', 'failed', 'canceled'];
/** Workers that may be given tasks; any other must sign on first. */
export const WORKING_STATUSES: readonly WorkerStatus[] = ['awake'];

export type TaskCounts = Record<TaskStatus, number>;

export const emptyCounts = (): TaskCounts => ({
  queued: 0,
  active: 0,
  'soft-failed': 0,
  failed: 0,
  completed: 0,
  canceled: 0,
  paused: 0,
});
