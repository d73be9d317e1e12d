import { Type, type Static } from '@sinclair/typebox';
import { literals, Uuid } from './common.js';
import { JOB_STATUSES, TASK_STATUSES, WORKER_STATUSES } from '../manager/state/statuses.js';

/**
 * What the web dashboard reads beyond jobs, tasks and workers: whether it needs a token, the
 * farm's counts and their history (for the plots), each task's runs (durations, attempts, the
 * per-worker timeline), and the services Kiln knows on the network.
 */

const countsBy = (names: readonly string[]) =>
  Type.Object(Object.fromEntries(names.map((name) => [name, Type.Integer()])));

export const AuthStatus = Type.Object({
  /** The farm runs on a trusted network (--open): nothing needs a token. */
  open: Type.Boolean(),
  /** The request's "Authorization: Bearer" token is accepted (always true when open). */
  authorized: Type.Boolean(),
});
export type AuthStatus = Static<typeof AuthStatus>;

export const FarmCounts = Type.Object({
  jobs: countsBy(JOB_STATUSES),
  tasks: countsBy(TASK_STATUSES),
  workers: countsBy(WORKER_STATUSES),
  /** Workers holding an active task. */
  busyWorkers: Type.Integer(),
});
export type FarmCounts = Static<typeof FarmCounts>;

export const FarmSample = Type.Object({
  at: Type.String({ description: 'ISO time of the sample' }),
  busyWorkers: Type.Integer(),
  awakeWorkers: Type.Integer(),
  queuedTasks: Type.Integer({ description: 'tasks queued or soft-failed (waiting for a worker)' }),
  activeTasks: Type.Integer(),
});
export type FarmSample = Static<typeof FarmSample>;

export const FinishedMinute = Type.Object({
  minute: Type.String({ description: 'ISO time of the minute start' }),
  completed: Type.Integer(),
  failed: Type.Integer({ description: 'runs that ended failed or soft-failed' }),
});
export type FinishedMinute = Static<typeof FinishedMinute>;

export const FarmHistoryQuery = Type.Object({
  minutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 7 * 24 * 60, default: 60 })),
});
export const FarmHistory = Type.Object({
  samples: Type.Array(FarmSample),
  finishedPerMinute: Type.Array(FinishedMinute),
});
export type FarmHistory = Static<typeof FarmHistory>;

const RUN_OUTCOMES = ['running', 'completed', 'failed', 'soft-failed', 'canceled', 'requeued', 'paused'] as const;
export const TaskRun = Type.Object({
  taskId: Uuid,
  workerId: Type.Union([Uuid, Type.Null()]),
  workerName: Type.Union([Type.String(), Type.Null()]),
  /** Null when the manager restarted while the task ran (its start was not recorded). */
  startedAt: Type.Union([Type.String(), Type.Null()]),
  finishedAt: Type.Union([Type.String(), Type.Null()]),
  outcome: literals(RUN_OUTCOMES),
});
export type TaskRun = Static<typeof TaskRun>;
export const TaskRunList = Type.Object({ runs: Type.Array(TaskRun) });
export type TaskRunList = Static<typeof TaskRunList>;

export const JobTiming = Type.Object({
  jobId: Uuid,
  startedAt: Type.Union([Type.String(), Type.Null()]),
  /** When its last run ended (the job's finish once it is completed, failed or canceled). */
  lastFinishedAt: Type.Union([Type.String(), Type.Null()]),
});
export type JobTiming = Static<typeof JobTiming>;
export const JobTimingList = Type.Object({ timings: Type.Array(JobTiming) });
export type JobTimingList = Static<typeof JobTimingList>;

const NetworkService = Type.Object({
  kind: Type.String(),
  host: Type.String(),
  uuid: Type.String(),
  addresses: Type.Array(Type.String()),
  ports: Type.Record(Type.String(), Type.Integer()),
  version: Type.String(),
  source: Type.String({ description: 'the liveliest source that knows it' }),
  sources: Type.Array(Type.String()),
  ageMs: Type.Integer({ description: 'ms since a source last confirmed it' }),
});

export const NetworkServiceList = Type.Object({
  services: Type.Array(NetworkService),
  /** The sources looked at (multicast, dns-sd, services.cfg). */
  sources: Type.Array(Type.String()),
  problems: Type.Array(Type.String()),
});
export type NetworkServiceList = Static<typeof NetworkServiceList>;
