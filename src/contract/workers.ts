import { Type, type Static } from '@sinclair/typebox';
import { literals, Uuid, WorkerStatusSchema } from './common.js';

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
export type WorkerList = Static<typeof WorkerList>;
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
export type WorkerControl = Static<typeof WorkerControl>;
export const WorkerTags = Type.Object(
  { tags: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 50 }) },
  { additionalProperties: false },
);

export type WorkerTags = Static<typeof WorkerTags>;
export type SleepSchedule = Static<typeof SleepScheduleSchema>;
