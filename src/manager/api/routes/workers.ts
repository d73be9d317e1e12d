import { Type } from '@sinclair/typebox';
import type { App } from '../app.js';
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
import { toWorker } from '../present.js';
import type { WorkerService, WorkerView } from '../../workers/worker-service.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 409: ErrorBody };

export interface WorkerRouteDeps {
  workers: Pick<WorkerService, 'list' | 'get' | 'control' | 'setTags' | 'setSleepSchedule' | 'remove'>;
}

export function registerWorkerRoutes(api: App, deps: WorkerRouteDeps): void {
  const user = { preHandler: api.requireUser };
  const present = (view: WorkerView) => toWorker(view.row, view.currentTaskId);

  api.get(
    '/workers',
    { schema: { tags: ['workers'], querystring: PageQuery, response: { 200: WorkerList, 400: ErrorBody } } },
    async (request) => {
      const { workers, total } = await deps.workers.list({
        limit: request.query.limit ?? 1000,
        offset: request.query.offset ?? 0,
      });
      return { workers: workers.map(present), total };
    },
  );

  api.get(
    '/workers/:id',
    { schema: { tags: ['workers'], params: IdParams, response: { 200: Worker, 404: ErrorBody } } },
    async (request) => present(await deps.workers.get(request.params.id)),
  );

  api.post(
    '/workers/:id/status',
    {
      ...user,
      schema: { tags: ['workers'], params: IdParams, body: WorkerControl, response: { 200: Worker, ...errors } },
    },
    async (request) => present(await deps.workers.control(request.params.id, request.body)),
  );

  api.put(
    '/workers/:id/tags',
    {
      ...user,
      schema: { tags: ['workers'], params: IdParams, body: WorkerTags, response: { 200: Worker, ...errors } },
    },
    async (request) => present(await deps.workers.setTags(request.params.id, request.body.tags)),
  );

  api.put(
    '/workers/:id/sleep-schedule',
    {
      ...user,
      schema: { tags: ['workers'], params: IdParams, body: SleepScheduleSchema, response: { 200: Worker, ...errors } },
    },
    async (request) => present(await deps.workers.setSleepSchedule(request.params.id, request.body)),
  );

  api.delete(
    '/workers/:id',
    { ...user, schema: { tags: ['workers'], params: IdParams, response: { 204: Type.Null(), ...errors } } },
    async (request, reply) => {
      await deps.workers.remove(request.params.id);
      return reply.status(204).send(null);
    },
  );
}
