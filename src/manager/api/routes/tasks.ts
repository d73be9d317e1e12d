import { Type } from '@sinclair/typebox';
import type { App } from '../app.js';
import type { ManagerContext } from '../../context.js';
import { ErrorBody, IdParams, LogTail, LogTailQuery, Task, TaskAction } from '../../../contract/index.js';
import { fetchTask, dependenciesOf, toTask } from '../../persistence/tasks.js';

export function registerTaskRoutes(api: App, ctx: ManagerContext): void {
  const withDeps = async (id: string) => {
    const row = await fetchTask(ctx.db, id);
    return toTask(row, (await dependenciesOf(ctx.db, [id])).get(id));
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
      if (request.body.action === 'requeue') await ctx.taskControl.requeue(request.params.id);
      else await ctx.taskControl.cancel(request.params.id);
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
      const task = await fetchTask(ctx.db, request.params.id);
      return { lines: await ctx.logs.tail(task.job_id, task.id, request.query.lines ?? 100) };
    },
  );

  api.get(
    '/tasks/:id/log',
    { schema: { tags: ['tasks'], params: IdParams, response: { 200: Type.String(), 404: ErrorBody } } },
    async (request, reply) => {
      const task = await fetchTask(ctx.db, request.params.id);
      return reply.type('text/plain; charset=utf-8').send(await ctx.logs.full(task.job_id, task.id));
    },
  );
}
