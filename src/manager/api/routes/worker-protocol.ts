import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { App } from '../app.js';
import type { ManagerContext } from '../../context.js';
import { ApiError } from '../errors.js';
import { parseWorkerCredentials } from '../worker-credentials.js';
import { AuthError, assertSignedOn } from '../../workers/worker-service.js';
import {
  AssignedTask,
  ErrorBody,
  IdParams,
  MayKeepRunning,
  RegisterWorker,
  RegisteredWorker,
  SignOn,
  TaskRequestQuery,
  TaskUpdate,
  WorkerStateAnswer,
} from '../../../contract/index.js';
import { fetchWorker } from '../../persistence/workers.js';
import { fetchTask } from '../../persistence/tasks.js';
import { InvalidImageError, PREVIEW_TYPES } from '../../previews.js';
import type { TaskRow, WorkerRow } from '../../persistence/schema/tables.js';
import type { WorkerStatus } from '../../state/statuses.js';
import type { Platform } from '../../../storage/index.js';

declare module 'fastify' {
  interface FastifyRequest {
    workerId?: string;
  }
}

const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 409: ErrorBody };

/** The protocol workers speak: register, sign on/off, long-poll for tasks, report on them. */
export function registerWorkerProtocolRoutes(api: App, ctx: ManagerContext): void {
  const authenticate = async (request: FastifyRequest): Promise<void> => {
    const { id, token } = parseWorkerCredentials(request.headers.authorization);
    try {
      await ctx.workers.authenticate(id, token);
    } catch (error) {
      if (error instanceof AuthError)
        throw new ApiError(401, 'unauthorized', `worker credentials refused: ${error.message}`);
      throw error;
    }
    request.workerId = id;
  };
  const worker = { preHandler: authenticate };
  const idOf = (request: FastifyRequest): string => request.workerId!;
  const stateOf = (row: WorkerRow) => ({ statusRequested: row.status_requested, lazy: row.lazy_status_request });

  api.post(
    '/worker/register',
    { schema: { tags: ['worker protocol'], body: RegisterWorker, response: { 201: RegisteredWorker, ...errors } } },
    async (request, reply) => {
      try {
        return reply.status(201).send(await ctx.workers.register(request.body, request.ip));
      } catch (error) {
        if (error instanceof AuthError)
          throw new ApiError(401, 'unauthorized', 'wrong farm secret (see `kiln manager secret`)', 'secret');
        throw error;
      }
    },
  );

  api.post(
    '/worker/sign-on',
    { ...worker, schema: { tags: ['worker protocol'], body: SignOn, response: { 200: WorkerStateAnswer, ...errors } } },
    async (request) => stateOf(await ctx.workers.signOn(idOf(request), request.body, request.ip)),
  );

  api.post(
    '/worker/sign-off',
    { ...worker, schema: { tags: ['worker protocol'], response: { 204: Type.Null(), ...errors } } },
    async (request, reply) => {
      await ctx.workers.signOff(idOf(request));
      return reply.status(204).send(null);
    },
  );

  api.get(
    '/worker/state',
    { ...worker, schema: { tags: ['worker protocol'], response: { 200: WorkerStateAnswer, ...errors } } },
    async (request) => {
      const row = await fetchWorker(ctx.db, idOf(request));
      assertSignedOn(row);
      // A sleeping worker polls here; waking it is acknowledged by the answer itself.
      if (row.status === 'asleep' && row.status_requested === 'awake') {
        await ctx.workers.acknowledge(row.id, 'awake');
        ctx.dispatcher.kick();
        return { statusRequested: 'awake' as WorkerStatus, lazy: false };
      }
      return stateOf(row);
    },
  );

  api.post(
    '/worker/state',
    {
      ...worker,
      schema: {
        tags: ['worker protocol'],
        body: Type.Object(
          { status: Type.Union([Type.Literal('asleep'), Type.Literal('awake')]) },
          { additionalProperties: false },
        ),
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await ctx.workers.acknowledge(idOf(request), request.body.status);
      return reply.status(204).send(null);
    },
  );

  api.post(
    '/worker/task',
    {
      ...worker,
      schema: {
        tags: ['worker protocol'],
        querystring: TaskRequestQuery,
        response: { 200: AssignedTask, 204: Type.Null(), 423: WorkerStateAnswer, ...errors },
      },
    },
    async (request, reply) => {
      const id = idOf(request);
      const { worker: row, held } = await ctx.workers.fetchWithHeldTask(id);
      // A worker the manager put in `error` (timed out) or `offline` gets no task until it signs on again.
      assertSignedOn(row);
      // A status change is due: now, or (lazy) once the worker holds no task.
      if (row.status_requested && (!row.lazy_status_request || !held)) return reply.status(423).send(stateOf(row));
      if (row.status === 'asleep') return reply.status(423).send({ statusRequested: 'asleep', lazy: false });
      if (held) return assigned(held, row);
      const abort = new AbortController();
      request.raw.on('close', () => abort.abort());
      const waitMs = Math.min(request.query.waitMs ?? ctx.config.long_poll * 1000, ctx.config.long_poll * 1000);
      const task = await ctx.dispatcher.request(
        { id, supportedTaskTypes: row.supported_task_types, tags: row.tags },
        waitMs,
        abort.signal,
      );
      if (!task) {
        // Released early because a status change was requested: say so now.
        const now = await fetchWorker(ctx.db, id);
        if (now.status_requested) return reply.status(423).send(stateOf(now));
        return reply.status(204).send(null);
      }
      return assigned(task, row);
    },
  );

  /** The task as this worker should see it: paths in its own platform's form. */
  const assigned = async (task: TaskRow, worker: WorkerRow) => {
    const job = await ctx.jobs.nameAndType(task.job_id);
    const commands = task.commands as Array<{ name: string; parameters: Record<string, unknown> }>;
    return {
      id: task.id,
      jobId: task.job_id,
      jobName: job.name,
      jobType: job.type,
      name: task.name,
      type: task.type,
      priority: task.priority,
      commands: ctx.storage.commandsFor(commands, worker.platform as Platform),
    };
  };

  api.post(
    '/worker/tasks/:id/update',
    {
      ...worker,
      schema: {
        tags: ['worker protocol'],
        params: IdParams,
        body: TaskUpdate,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await ctx.taskUpdates.apply(idOf(request), request.params.id, request.body);
      return reply.status(204).send(null);
    },
  );

  api.get(
    '/worker/tasks/:id/may-i-run',
    {
      ...worker,
      schema: { tags: ['worker protocol'], params: IdParams, response: { 200: MayKeepRunning, ...errors } },
    },
    async (request) => ctx.taskControl.mayKeepRunning(idOf(request), request.params.id),
  );

  api.post(
    '/worker/tasks/:id/preview',
    {
      ...worker,
      schema: {
        tags: ['worker protocol'],
        params: IdParams,
        response: { 204: Type.Null(), 413: ErrorBody, 415: ErrorBody, ...errors },
      },
    },
    async (request, reply) => {
      const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim();
      if (!PREVIEW_TYPES.includes(type))
        throw new ApiError(
          415,
          'unsupported_media_type',
          `a preview must be image/png or image/jpeg, not ${type || 'untyped'}`,
          'content-type',
        );
      const task = await fetchTask(ctx.db, request.params.id);
      if (task.worker_id !== idOf(request))
        throw new ApiError(409, 'not_your_task', 'this worker does not hold that task');
      try {
        await ctx.previews.store(task.job_id, request.body as Buffer);
      } catch (error) {
        // Only a body that does not decode is the sender's fault; a failing disk is the manager's.
        if (error instanceof InvalidImageError)
          throw new ApiError(400, 'invalid_image', 'the preview could not be read as an image', 'body');
        throw error;
      }
      return reply.status(204).send(null);
    },
  );
}
