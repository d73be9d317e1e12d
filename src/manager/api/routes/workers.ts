import { Type } from '@sinclair/typebox';
import type { App } from '../app.js';
import type { ManagerContext } from '../../context.js';
import {
  ErrorBody,
  IdParams,
  PageQuery,
  SleepScheduleSchema,
  Worker,
  WorkerControl,
  WorkerList,
  WorkerTags,
} from '../../../contract/index.js';
import { fetchWorker, pageWorkers, toWorker } from '../../persistence/workers.js';
import { activeTaskOfWorker, activeTaskIdsByWorker } from '../../persistence/tasks.js';
import type { WorkerRow } from '../../persistence/schema/tables.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 409: ErrorBody };

export function registerWorkerRoutes(api: App, ctx: ManagerContext): void {
  const user = { preHandler: api.requireUser };
  const present = async (row: WorkerRow) => toWorker(row, (await activeTaskOfWorker(ctx.db, row.id))?.id ?? null);

  api.get(
    '/workers',
    { schema: { tags: ['workers'], querystring: PageQuery, response: { 200: WorkerList, 400: ErrorBody } } },
    async (request) => {
      const { rows, total } = await pageWorkers(ctx.db, {
        limit: request.query.limit ?? 1000,
        offset: request.query.offset ?? 0,
      });
      const current = await activeTaskIdsByWorker(ctx.db);
      return { workers: rows.map((row) => toWorker(row, current.get(row.id) ?? null)), total };
    },
  );

  api.get(
    '/workers/:id',
    { schema: { tags: ['workers'], params: IdParams, response: { 200: Worker, 404: ErrorBody } } },
    async (request) => present(await fetchWorker(ctx.db, request.params.id)),
  );

  api.post(
    '/workers/:id/status',
    {
      ...user,
      schema: { tags: ['workers'], params: IdParams, body: WorkerControl, response: { 200: Worker, ...errors } },
    },
    async (request) => present(await ctx.workers.control(request.params.id, request.body)),
  );

  api.put(
    '/workers/:id/tags',
    {
      ...user,
      schema: { tags: ['workers'], params: IdParams, body: WorkerTags, response: { 200: Worker, ...errors } },
    },
    async (request) => present(await ctx.workers.setTags(request.params.id, request.body.tags)),
  );

  api.put(
    '/workers/:id/sleep-schedule',
    {
      ...user,
      schema: { tags: ['workers'], params: IdParams, body: SleepScheduleSchema, response: { 200: Worker, ...errors } },
    },
    async (request) => present(await ctx.workers.setSleepSchedule(request.params.id, request.body)),
  );

  api.delete(
    '/workers/:id',
    { ...user, schema: { tags: ['workers'], params: IdParams, response: { 204: Type.Null(), ...errors } } },
    async (request, reply) => {
      await fetchWorker(ctx.db, request.params.id);
      await ctx.workers.remove(request.params.id);
      return reply.status(204).send(null);
    },
  );
}
