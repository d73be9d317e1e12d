import { Type, type Static } from '@sinclair/typebox';
import { Uuid, TaskStatusSchema } from './common.js';

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
export type TaskList = Static<typeof TaskList>;
export const TaskAction = Type.Object(
  { action: Type.Union([Type.Literal('requeue'), Type.Literal('cancel')]) },
  { additionalProperties: false },
);
export const LogTailQuery = Type.Object({
  lines: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000, default: 100 })),
});
export const LogTail = Type.Object({ lines: Type.Array(Type.String()) });

export type LogTail = Static<typeof LogTail>;
/** What a user may do to one task ('requeue' | 'cancel'); TaskAction is the request body. */
export type TaskActionName = Static<typeof TaskAction>['action'];
