import { Type, type Static } from '@sinclair/typebox';
import { SettingInfo } from '../jobs/setting-info.js';
import { Uuid, JobStatusSchema, Priority, MAX_PAGE, MAX_OFFSET } from './common.js';

export const JobTypeSummary = Type.Object({
  name: Type.String(),
  label: Type.String(),
  description: Type.String(),
  etag: Type.String(),
});
export type JobTypeSummary = Static<typeof JobTypeSummary>;
export const JobTypeDetail = Type.Composite([
  JobTypeSummary,
  Type.Object({
    settingsSchema: Type.Unknown({
      description: "the job type's settings as JSON Schema; its etag is computed from it",
    }),
    settings: Type.Array(SettingInfo, { description: 'each setting described from settingsSchema, in its order' }),
  }),
]);
export type JobTypeDetail = Static<typeof JobTypeDetail>;
export const JobTypeList = Type.Object({ jobTypes: Type.Array(JobTypeSummary) });

// ---- jobs
export type JobTypeList = Static<typeof JobTypeList>;
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

const TaskCountsSchema = Type.Object({
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

export type JobCheckResult = Static<typeof JobCheckResult>;
export const JobListQuery = Type.Object({
  status: Type.Optional(Type.String({ description: 'comma-separated statuses' })),
  type: Type.Optional(Type.String()),
  tag: Type.Optional(Type.String()),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE, default: 100 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_OFFSET, default: 0 })),
});
export type JobListQuery = Static<typeof JobListQuery>;
export const JobList = Type.Object({ jobs: Type.Array(Job), total: Type.Integer() });

export type JobList = Static<typeof JobList>;
export const JobAction = Type.Union([
  Type.Literal('pause'),
  Type.Literal('resume'),
  Type.Literal('cancel'),
  Type.Literal('requeue'),
]);
export type JobAction = Static<typeof JobAction>;
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
export type SetJobStatus = Static<typeof SetJobStatus>;
export const BlocklistEntry = Type.Object({
  workerId: Uuid,
  workerName: Type.String(),
  taskType: Type.String(),
  since: Type.String(),
});
export type BlocklistEntry = Static<typeof BlocklistEntry>;
export const Blocklist = Type.Object({ blocklist: Type.Array(BlocklistEntry) });
export type Blocklist = Static<typeof Blocklist>;
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
