import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { JOB_STATUSES, TASK_STATUSES, WORKER_STATUSES } from '../state/statuses.js';
import { SettingInfo } from '../../jobs/setting-info.js';
import { PlatformSchema } from '../../util/platform.js';

/**
 * The manager's HTTP contract. These schemas validate requests, shape responses,
 * generate /api/v1/openapi.json, and give the CLI and worker their types.
 */
const literals = <T extends readonly string[]>(values: T, options: object = {}) =>
  Type.Union(values.map((value) => Type.Literal(value)) as never, options) as unknown as TSchema & {
    static: T[number];
  };

export const Uuid = Type.String({ format: 'uuid' });
export const JobStatusSchema = literals(JOB_STATUSES);
export const TaskStatusSchema = literals(TASK_STATUSES);
export const WorkerStatusSchema = literals(WORKER_STATUSES);
export const Priority = Type.Integer({ minimum: 0, maximum: 100 });
/** Paging of every list: a page holds at most MAX_PAGE items, whatever is stored; `total` says how many there are. */
export const MAX_PAGE = 1000;
export const MAX_OFFSET = 1_000_000_000;
export const PageQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE, default: MAX_PAGE })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_OFFSET, default: 0 })),
});
export const Platform = PlatformSchema;

export const ErrorBody = Type.Object(
  { error: Type.Object({ code: Type.String(), message: Type.String(), field: Type.Optional(Type.String()) }) },
  { $id: 'Error' },
);
export type ErrorBody = Static<typeof ErrorBody>;

export const IdParams = Type.Object({ id: Uuid });
export const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }) });

// ---- job types
export const JobTypeSummary = Type.Object({
  name: Type.String(),
  label: Type.String(),
  description: Type.String(),
  etag: Type.String(),
});
export const JobTypeDetail = Type.Composite([
  JobTypeSummary,
  Type.Object({
    settingsSchema: Type.Unknown({
      description: "the job type's settings as JSON Schema; its etag is computed from it",
    }),
    settings: Type.Array(SettingInfo, { description: 'each setting described from settingsSchema, in its order' }),
  }),
]);
export const JobTypeList = Type.Object({ jobTypes: Type.Array(JobTypeSummary) });

// ---- jobs
export const SubmitJob = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    type: Type.String({ minLength: 1, maxLength: 100 }),
    /** The etag of the job type the submitter built its settings for; stale → 412. */
    typeEtag: Type.Optional(Type.String()),
    priority: Type.Optional(Priority),
    settings: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    metadata: Type.Optional(Type.Record(Type.String(), Type.String())),
    frames: Type.Optional(Type.String({ maxLength: 10000 })),
    chunkSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000 })),
    tag: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    storage: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);
export type SubmitJob = Static<typeof SubmitJob>;

export const TaskCountsSchema = Type.Object({
  queued: Type.Integer(),
  active: Type.Integer(),
  'soft-failed': Type.Integer(),
  failed: Type.Integer(),
  completed: Type.Integer(),
  canceled: Type.Integer(),
  paused: Type.Integer(),
});

export const Job = Type.Object({
  id: Uuid,
  name: Type.String(),
  type: Type.String(),
  typeEtag: Type.String(),
  priority: Type.Integer(),
  status: JobStatusSchema,
  activity: Type.String(),
  settings: Type.Record(Type.String(), Type.Unknown()),
  metadata: Type.Record(Type.String(), Type.Unknown()),
  tag: Type.Union([Type.String(), Type.Null()]),
  frames: Type.Union([Type.String(), Type.Null()]),
  chunkSize: Type.Union([Type.Integer(), Type.Null()]),
  storage: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  taskCount: Type.Integer(),
  taskCounts: TaskCountsSchema,
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
export type Job = Static<typeof Job>;

export const JobCheckResult = Type.Object({
  ok: Type.Boolean(),
  taskCount: Type.Integer(),
  tasks: Type.Array(Type.Object({ name: Type.String(), type: Type.String(), dependsOn: Type.Array(Type.Integer()) })),
});

export const JobListQuery = Type.Object({
  status: Type.Optional(Type.String({ description: 'comma-separated statuses' })),
  type: Type.Optional(Type.String()),
  tag: Type.Optional(Type.String()),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE, default: 100 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_OFFSET, default: 0 })),
});
export const JobList = Type.Object({ jobs: Type.Array(Job), total: Type.Integer() });

export const JobAction = Type.Union([
  Type.Literal('pause'),
  Type.Literal('resume'),
  Type.Literal('cancel'),
  Type.Literal('requeue'),
]);
export const SetJobStatus = Type.Object(
  {
    action: JobAction,
    reason: Type.Optional(Type.String({ maxLength: 500 })),
    now: Type.Optional(
      Type.Boolean({ description: 'pause only: stop running tasks at once instead of letting them finish' }),
    ),
  },
  { additionalProperties: false },
);
export const BlocklistEntry = Type.Object({
  workerId: Uuid,
  workerName: Type.String(),
  taskType: Type.String(),
  since: Type.String(),
});
export const Blocklist = Type.Object({ blocklist: Type.Array(BlocklistEntry) });
export const Unblock = Type.Object(
  {
    workerId: Uuid,
    taskType: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 100,
        description: "only this task type; all of the worker's entries when absent",
      }),
    ),
  },
  { additionalProperties: false },
);
export const SetPriority = Type.Object({ priority: Priority }, { additionalProperties: false });

// ---- tasks
export const Task = Type.Object({
  id: Uuid,
  jobId: Uuid,
  index: Type.Integer(),
  name: Type.String(),
  type: Type.String(),
  priority: Type.Integer(),
  status: TaskStatusSchema,
  activity: Type.String(),
  progress: Type.Number(),
  workerId: Type.Union([Uuid, Type.Null()]),
  failedByWorkers: Type.Array(Uuid),
  dependsOn: Type.Array(Uuid),
  commands: Type.Array(Type.Unknown()),
  lastTouchedAt: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
export type Task = Static<typeof Task>;
export const TaskList = Type.Object({ tasks: Type.Array(Task), total: Type.Integer() });
export const TaskAction = Type.Object(
  { action: Type.Union([Type.Literal('requeue'), Type.Literal('cancel')]) },
  { additionalProperties: false },
);
export const LogTailQuery = Type.Object({
  lines: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000, default: 100 })),
});
export const LogTail = Type.Object({ lines: Type.Array(Type.String()) });

// ---- workers (user side)
export const SleepScheduleSchema = Type.Object(
  {
    enabled: Type.Boolean(),
    days: Type.Array(literals(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const), { maxItems: 7 }),
    start: Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', description: 'HH:MM' }),
    end: Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', description: 'HH:MM' }),
  },
  { additionalProperties: false },
);
export const Worker = Type.Object({
  id: Uuid,
  name: Type.String(),
  platform: Type.String(),
  supportedTaskTypes: Type.Array(Type.String()),
  tags: Type.Array(Type.String()),
  status: WorkerStatusSchema,
  statusRequested: Type.Union([WorkerStatusSchema, Type.Null()]),
  lazyStatusRequest: Type.Boolean(),
  address: Type.String(),
  softwareVersion: Type.String(),
  sleepSchedule: Type.Union([SleepScheduleSchema, Type.Null()]),
  lastSeenAt: Type.String(),
  currentTaskId: Type.Union([Uuid, Type.Null()]),
});
export type Worker = Static<typeof Worker>;
export const WorkerList = Type.Object({ workers: Type.Array(Worker), total: Type.Integer() });
export const WorkerControl = Type.Object(
  {
    action: Type.Union([
      Type.Literal('sleep'),
      Type.Literal('wake'),
      Type.Literal('shutdown'),
      Type.Literal('restart'),
    ]),
    when: Type.Optional(Type.Union([Type.Literal('after-task'), Type.Literal('now')], { default: 'after-task' })),
  },
  { additionalProperties: false },
);
export const WorkerTags = Type.Object(
  { tags: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 50 }) },
  { additionalProperties: false },
);

// ---- worker protocol
export const RegisterWorker = Type.Object(
  {
    secret: Type.String({ minLength: 1 }),
    name: Type.String({ minLength: 1, maxLength: 200 }),
    platform: Platform,
    supportedTaskTypes: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
    tags: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  },
  { additionalProperties: false },
);
export const RegisteredWorker = Type.Object({ id: Uuid, token: Type.String() });
export const SignOn = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    platform: Platform,
    supportedTaskTypes: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
    tags: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    softwareVersion: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export const WorkerStateAnswer = Type.Object({
  statusRequested: Type.Union([WorkerStatusSchema, Type.Null()]),
  lazy: Type.Boolean(),
});
export const TaskRequestQuery = Type.Object({
  waitMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 60000, default: 30000 })),
});
export const AssignedTask = Type.Object({
  id: Uuid,
  jobId: Uuid,
  jobName: Type.String(),
  jobType: Type.String(),
  name: Type.String(),
  type: Type.String(),
  priority: Type.Integer(),
  commands: Type.Array(Type.Object({ name: Type.String(), parameters: Type.Record(Type.String(), Type.Unknown()) })),
});
export type AssignedTask = Static<typeof AssignedTask>;
export const TaskUpdate = Type.Object(
  {
    status: Type.Optional(
      Type.Union([Type.Literal('active'), Type.Literal('completed'), Type.Literal('failed'), Type.Literal('queued')]),
    ),
    progress: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    activity: Type.Optional(Type.String({ maxLength: 1000 })),
    log: Type.Optional(Type.Array(Type.String({ maxLength: 65536 }), { maxItems: 10000 })),
    /** Sequence number of this update from the worker, so a replayed update applies once. */
    seq: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
  },
  { additionalProperties: false },
);
export type TaskUpdate = Static<typeof TaskUpdate>;
export const MayKeepRunning = Type.Object({
  mayKeepRunning: Type.Boolean(),
  reason: Type.String(),
  statusRequested: Type.Union([WorkerStatusSchema, Type.Null()]),
});

export const Version = Type.Object({ name: Type.String(), version: Type.String(), apiVersion: Type.Integer() });
