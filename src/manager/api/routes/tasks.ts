import { Type } from '@sinclair/typebox';
import type { App } from '../app.js';
import type { TaskControl } from '../../tasks/task-control.js';
import type { TaskOutputs } from '../../tasks/task-outputs.js';
import { toTask } from '../present.js';
import { ErrorBody, IdParams, LogTail, LogTailQuery, Task, TaskAction } from '../../../contract/index.js';

export interface TaskRouteDeps {
  tasks: Pick<TaskControl, 'get' | 'requeue' | 'cancel'>;
  outputs: Pick<TaskOutputs, 'logTail' | 'log'>;
}

export function registerTaskRoutes(api: App, deps: TaskRouteDeps): void {
  const withDeps = async (id: string) => {
    const { row, dependsOn } = await deps.tasks.get(id);
    return toTask(row, dependsOn);
  };

  api.get(
    '/tasks/:id',
    { schema: { tags: ['tasks'], params: IdParams, response: { 200: Task, 404: ErrorBody } } },
    async (request) => withDeps(request.params.id),
  );

  api.post(
    '/tasks/:id/status',
    {
      preHandler: api.requireUser,
      schema: {
        tags: ['tasks'],
        params: IdParams,
        body: TaskAction,
        response: { 200: Task, 400: ErrorBody, 404: ErrorBody, 409: ErrorBody },
      },
    },
    async (request) => {
      if (request.body.action === 'requeue') await deps.tasks.requeue(request.params.id);
      else await deps.tasks.cancel(request.params.id);
      return withDeps(request.params.id);
    },
  );

  api.get(
    '/tasks/:id/log/tail',
    {
      schema: {
        tags: ['tasks'],
        params: IdParams,
        querystring: LogTailQuery,
        response: { 200: LogTail, 404: ErrorBody },
      },
    },
    async (request) => {
      return { lines: await deps.outputs.logTail(request.params.id, request.query.lines ?? 100) };
    },
  );

  api.get(
    '/tasks/:id/log',
    { schema: { tags: ['tasks'], params: IdParams, response: { 200: Type.String(), 404: ErrorBody } } },
    async (request, reply) => {
      return reply.type('text/plain; charset=utf-8').send(await deps.outputs.log(request.params.id));
    },
  );
}
