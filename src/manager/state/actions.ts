import { JOB_STATUSES, type JobStatus, type TaskCounts, type TaskStatus, type WorkerStatus } from './statuses.js';
import { InvalidTransitionError } from './transitions.js';

/**
 * What users may do to jobs, tasks and workers, and from which statuses: tables, like the
 * transitions. Services check an action here before they change anything; a refused action
 * is a 409 invalid_transition naming the status and what would be allowed.
 */
export const JOB_ACTIONS = ['pause', 'resume', 'cancel', 'requeue', 'delete', 'priority'] as const;
export type JobAction = (typeof JOB_ACTIONS)[number];

export const JOB_ACTION_FROM: Readonly<Record<JobAction, readonly JobStatus[]>> = {
  // Pausing a pausing job again (with "now") stops the tasks it was waiting for.
  pause: ['queued', 'active', 'pause-requested'],
  resume: ['paused', 'pause-requested'],
  cancel: ['queued', 'active', 'paused', 'pause-requested'],
  // Requeue runs a job's failed, canceled and paused tasks again (every task once it completed).
  requeue: ['active', 'paused', 'canceled', 'completed', 'failed'],
  // Only a job nothing runs for may go; an active one is canceled first.
  delete: ['queued', 'paused', 'canceled', 'completed', 'failed'],
  // Priority orders work that may still run, and is kept for a later requeue.
  priority: JOB_STATUSES.filter((status) => status !== 'requeueing'),
};

/**
 * The status a job action moves a job to, before its tasks' counts have their say
 * (deriveJobStatus then makes a resumed job with finished tasks active, and so on).
 * `now` (pause only): running tasks stop at once instead of finishing.
 */
export function jobStatusAfterAction(
  action: Exclude<JobAction, 'delete' | 'priority'>,
  counts: Pick<TaskCounts, 'active'>,
  options: { now?: boolean } = {},
): JobStatus {
  const running = counts.active > 0;
  switch (action) {
    case 'pause':
      return running && !options.now ? 'pause-requested' : 'paused';
    case 'resume':
      return running ? 'active' : 'queued';
    case 'cancel':
      return running ? 'cancel-requested' : 'canceled';
    case 'requeue':
      return 'queued';
  }
}

export const TASK_ACTIONS = ['requeue', 'cancel'] as const;
export type TaskAction = (typeof TASK_ACTIONS)[number];

export const TASK_ACTION_FROM: Readonly<Record<TaskAction, readonly TaskStatus[]>> = {
  requeue: ['soft-failed', 'failed', 'completed', 'canceled'],
  // A running task is canceled too: its worker hears it at its next "may I keep running?".
  cancel: ['queued', 'active', 'soft-failed', 'paused'],
};

export const WORKER_ACTIONS = ['sleep', 'wake', 'shutdown', 'restart'] as const;
export type WorkerAction = (typeof WORKER_ACTIONS)[number];

export const WORKER_ACTION_FROM: Readonly<Record<WorkerAction, readonly WorkerStatus[]>> = {
  // Asked of a worker that is away, sleep and wake apply when it signs on again.
  sleep: ['awake', 'asleep', 'offline', 'error', 'restart'],
  wake: ['awake', 'asleep', 'offline', 'error', 'restart'],
  // Only a running worker process can shut down or restart.
  shutdown: ['awake', 'asleep'],
  restart: ['awake', 'asleep'],
};

/** The status each worker action asks the worker for. */
export const WORKER_ACTION_REQUESTS: Readonly<Record<WorkerAction, WorkerStatus>> = {
  sleep: 'asleep',
  wake: 'awake',
  shutdown: 'offline',
  restart: 'restart',
};

/** Refuses an action the table does not allow from `status`. */
export function assertActionAllowed<A extends string, S extends string>(
  table: Readonly<Record<A, readonly S[]>>,
  what: string,
  action: A,
  status: S,
): void {
  const allowed = table[action];
  if (allowed.includes(status)) return;
  throw new InvalidTransitionError(`cannot ${action} a ${what} that is ${status} (only when ${allowed.join(', ')})`);
}
