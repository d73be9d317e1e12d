import type { JobStatus, TaskStatus, WorkerStatus } from './statuses.js';

/**
 * The status machines as data: for each status, the statuses it may move to. Every status
 * change goes through assertJobTransition / assertTaskTransition / assertWorkerTransition
 * (the store's moveJob, updateTasks and moveWorker call them), so nothing goes around them.
 */
export const JOB_TRANSITIONS: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  queued: ['active', 'paused', 'pause-requested', 'cancel-requested', 'canceled', 'completed', 'failed', 'requeueing'],
  active: ['queued', 'completed', 'failed', 'pause-requested', 'paused', 'cancel-requested', 'canceled', 'requeueing'],
  // Resuming while tasks still finish makes the job active again at once.
  'pause-requested': ['paused', 'active', 'queued', 'cancel-requested', 'canceled', 'failed', 'completed'],
  paused: ['queued', 'active', 'requeueing', 'cancel-requested', 'canceled', 'failed'],
  'cancel-requested': ['canceled'],
  canceled: ['requeueing'],
  completed: ['requeueing'],
  failed: ['requeueing'],
  requeueing: ['queued'],
};

export const TASK_TRANSITIONS: Readonly<Record<TaskStatus, readonly TaskStatus[]>> = {
  queued: ['active', 'canceled', 'paused'],
  active: ['completed', 'soft-failed', 'failed', 'queued', 'canceled', 'paused'],
  'soft-failed': ['active', 'queued', 'failed', 'canceled', 'paused'],
  failed: ['queued', 'paused'],
  completed: ['queued', 'paused'],
  canceled: ['queued', 'paused'],
  paused: ['queued', 'canceled'],
};

const WORKER_TRANSITIONS: Readonly<Record<WorkerStatus, readonly WorkerStatus[]>> = {
  // Signing on makes a worker awake or asleep from any status.
  awake: ['asleep', 'offline', 'error', 'restart'],
  asleep: ['awake', 'offline', 'error', 'restart'],
  offline: ['awake', 'asleep'],
  error: ['awake', 'asleep', 'offline'],
  restart: ['awake', 'asleep', 'offline', 'error'],
};

/** A status change the tables forbid; the API answers 409 invalid_transition. */
export class InvalidTransitionError extends Error {
  readonly code = 'invalid_transition';
  constructor(message: string) {
    super(message);
    this.name = 'InvalidTransitionError';
  }
}

function canTransition<S extends string>(table: Readonly<Record<S, readonly S[]>>, from: S, to: S): boolean {
  return from === to || table[from].includes(to);
}

export const canJobTransition = (from: JobStatus, to: JobStatus): boolean => canTransition(JOB_TRANSITIONS, from, to);
export const canTaskTransition = (from: TaskStatus, to: TaskStatus): boolean =>
  canTransition(TASK_TRANSITIONS, from, to);
export const canWorkerTransition = (from: WorkerStatus, to: WorkerStatus): boolean =>
  canTransition(WORKER_TRANSITIONS, from, to);

function check<S extends string>(table: Readonly<Record<S, readonly S[]>>, what: string, from: S, to: S): void {
  if (!canTransition(table, from, to))
    throw new InvalidTransitionError(`a ${what} that is ${from} cannot become ${to}`);
}

export const assertJobTransition = (from: JobStatus, to: JobStatus): void => check(JOB_TRANSITIONS, 'job', from, to);
export const assertTaskTransition = (from: TaskStatus, to: TaskStatus): void =>
  check(TASK_TRANSITIONS, 'task', from, to);
export const assertWorkerTransition = (from: WorkerStatus, to: WorkerStatus): void =>
  check(WORKER_TRANSITIONS, 'worker', from, to);
