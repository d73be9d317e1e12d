import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { JOB_STATUSES, TASK_STATUSES, WORKER_STATUSES } from '../manager/state/statuses.js';
import { PlatformSchema, type Platform as PlatformName } from '../util/platform.js';

/** Building blocks every part of the contract uses: ids, statuses, paging, errors. */
export const literals = <T extends readonly string[]>(values: T, options: object = {}) =>
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
/** The one definition of a platform lives in util/platform. */
export const Platform = PlatformSchema;
export type Platform = PlatformName;
export const ErrorBody = Type.Object(
  { error: Type.Object({ code: Type.String(), message: Type.String(), field: Type.Optional(Type.String()) }) },
  { $id: 'Error' },
);
export type ErrorBody = Static<typeof ErrorBody>;

export const IdParams = Type.Object({ id: Uuid });
export const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }) });

export const Version = Type.Object({
  name: Type.String(),
  version: Type.String(),
  apiVersion: Type.Integer(),
  /** The manager host's identity (network.cfg UUID), for `kiln services snapshot` and discovery. */
  hostUuid: Type.Optional(Type.String()),
  /** The manager host's name. */
  hostName: Type.Optional(Type.String()),
  /** This manager among the managers of its farm (one database): which leads the farm-wide duties. */
  manager: Type.Optional(
    Type.Object({
      id: Type.String(),
      leader: Type.Boolean(),
      leaderId: Type.Optional(Type.String()),
      leaderUrl: Type.Optional(Type.String()),
    }),
  ),
});
export type Version = Static<typeof Version>;
export type WorkerStatus = Static<typeof WorkerStatusSchema>;
