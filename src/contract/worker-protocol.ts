import { Type, type Static } from '@sinclair/typebox';
import { Uuid, WorkerStatusSchema, Platform } from './common.js';

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
export type RegisterWorker = Static<typeof RegisterWorker>;
export const RegisteredWorker = Type.Object({ id: Uuid, token: Type.String() });
export type RegisteredWorker = Static<typeof RegisteredWorker>;
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
export type SignOn = Static<typeof SignOn>;
export const WorkerStateAnswer = Type.Object({
  statusRequested: Type.Union([WorkerStatusSchema, Type.Null()]),
  lazy: Type.Boolean(),
});
export type WorkerStateAnswer = Static<typeof WorkerStateAnswer>;
/**
 * POST /worker/state: the worker acted on a requested status (fell asleep, woke up). A sleeping
 * worker reads GET /worker/state, which changes nothing, and acknowledges waking here.
 */
export const WorkerStateChange = Type.Object(
  { status: Type.Union([Type.Literal('asleep'), Type.Literal('awake')]) },
  { additionalProperties: false },
);
export type WorkerStateChange = Static<typeof WorkerStateChange>;
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
/**
 * POST /worker/tasks/:id/finish: a task's last update (how it ended) and the request for the
 * next task in one round trip; answered like POST /worker/task.
 */
export const FinishTask = Type.Object(
  {
    status: Type.Union([Type.Literal('completed'), Type.Literal('failed'), Type.Literal('queued')], {
      description: "how the task ended; 'queued' hands it back (the worker is leaving)",
    }),
    activity: Type.Optional(Type.String({ maxLength: 1000 })),
    log: Type.Optional(Type.Array(Type.String({ maxLength: 65536 }), { maxItems: 10000 })),
    seq: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
  },
  { additionalProperties: false },
);
export type FinishTask = Static<typeof FinishTask>;
export const MayKeepRunning = Type.Object({
  mayKeepRunning: Type.Boolean(),
  reason: Type.String(),
  statusRequested: Type.Union([WorkerStatusSchema, Type.Null()]),
});

export type MayKeepRunning = Static<typeof MayKeepRunning>;
