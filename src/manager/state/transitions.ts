import type { JobStatus, TaskStatus, WorkerStatus } from './statuses.js';

/**
 * The status machines as data: for each status, the statuses it may move to.
 * Services check a change against these tables before persisting it.
 */
export const JOB_TRANSITIONS: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  'under-construction': ['queued', 'failed', 'canceled'],
  queued: ['active', 'paused', 'pause-requested', 'cancel-requested', 'canceled', 'completed', 'failed', 'requeueing'],
  active: ['queued', 'completed', 'failed', 'pause-requested', 'paused', 'cancel-requested', 'canceled', 'requeueing'],
  'pause-requested': ['paused', 'cancel-requested', 'canceled', 'failed', 'completed'],
  paused: ['queued', 'requeueing', 'cancel-requested', 'canceled'],
  'cancel-requested': ['canceled'],
  canceled: ['requeueing'],
  completed: ['requeueing'],
  failed: ['requeueing'],
  requeueing: ['queued'],
};

export const TASK_TRANSITIONS: Readonly<Record<TaskStatus, readonly TaskStatus[]>> = {
  queued: ['active', 'canceled', 'paused', 'failed', 'completed'],
  active: ['completed', 'soft-failed', 'failed', 'queued', 'canceled', 'paused'],
  'soft-failed': ['active', 'queued', 'failed', 'canceled', 'paused'],
  failed: ['queued'],
  completed: ['queued'],
  canceled: ['queued'],
  paused: ['queued', 'canceled'],
};

export const WORKER_TRANSITIONS: Readonly<Record<WorkerStatus, readonly WorkerStatus[]>> = {
  starting: ['awake', 'asleep', 'offline', 'error'],
  awake: ['asleep', 'offline', 'error', 'restart', 'starting'],
  asleep: ['awake', 'offline', 'error', 'restart', 'starting'],
  offline: ['starting', 'awake', 'asleep', 'error'],
  error: ['starting', 'awake', 'asleep', 'offline'],
  restart: ['starting', 'offline', 'error'],
};

export function canTransition<S extends string>(table: Readonly<Record<S, readonly S[]>>, from: S, to: S): boolean {
  return from === to || table[from].includes(to);
}

export const canJobTransition = (from: JobStatus, to: JobStatus): boolean => canTransition(JOB_TRANSITIONS, from, to);
export const canTaskTransition = (from: TaskStatus, to: TaskStatus): boolean => canTransition(TASK_TRANSITIONS, from, to);
export const canWorkerTransition = (from: WorkerStatus, to: WorkerStatus): boolean => canTransition(WORKER_TRANSITIONS, from, to);
