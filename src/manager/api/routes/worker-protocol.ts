import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../app.js';
import { ApiError } from '../errors.js';
import { parseWorkerCredentials } from '../worker-credentials.js';
import { AuthError, type WorkerAuth } from '../../workers/worker-auth.js';
import type { WorkerService } from '../../workers/worker-service.js';
import type { TaskUpdates } from '../../tasks/task-updates.js';
import type { TaskControl } from '../../tasks/task-control.js';
import type { TaskOutputs } from '../../tasks/task-outputs.js';
import {
  AssignedTask,
  ErrorBody,
  FinishTask,
  IdParams,
  MayKeepRunning,
  RegisterWorker,
  RegisteredWorker,
  SignOn,
  TaskRequestQuery,
  TaskUpdate,
  WorkerStateAnswer,
  WorkerStateChange,
} from '../../../contract/index.js';
import { InvalidImageError, PREVIEW_TYPES } from '../../previews.js';

declare module 'fastify' {
  interface FastifyRequest {
    workerId?: string;
  }
}

const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 409: ErrorBody };

export interface WorkerProtocolRouteDeps {
  auth: Pick<WorkerAuth, 'register' | 'authenticate'>;
  workers: Pick<WorkerService, 'signOn' | 'signOff' | 'state' | 'acknowledge' | 'nextTask' | 'finishTask'>;
  taskUpdates: Pick<TaskUpdates, 'apply'>;
  taskControl: Pick<TaskControl, 'mayKeepRunning'>;
  outputs: Pick<TaskOutputs, 'storePreview'>;
}

/** The protocol workers speak: register, sign on/off, long-poll for tasks, report on them. */
export function registerWorkerProtocolRoutes(api: App, deps: WorkerProtocolRouteDeps): void {
  const authenticate = async (request: FastifyRequest): Promise<void> => {
    const { id, token } = parseWorkerCredentials(request.headers.authorization);
    try {
      await deps.auth.authenticate(id, token);
    } catch (error) {
      if (error instanceof AuthError)
        throw new ApiError(401, 'unauthorized', `worker credentials refused: ${error.message}`);
      throw error;
    }
    request.workerId = id;
  };
  const worker = { preHandler: authenticate };
  registerSessionRoutes(api, deps, worker);
  registerTaskRoutes(api, deps, worker);
}

type WorkerOnly = { preHandler: (request: FastifyRequest) => Promise<void> };

/**
 * The worker the preHandler authenticated. A worker route registered without that preHandler
 * would reach here without one: refused as unauthenticated rather than served as nobody.
 */
function idOf(request: FastifyRequest): string {
  if (request.workerId === undefined) throw new ApiError(401, 'unauthorized', 'worker credentials are required');
  return request.workerId;
}

/** Joining the farm, signing on and off, and the status the manager asks of the worker. */
function registerSessionRoutes(api: App, deps: WorkerProtocolRouteDeps, worker: WorkerOnly): void {
  api.post(
    '/worker/register',
    { schema: { tags: ['worker protocol'], body: RegisterWorker, response: { 201: RegisteredWorker, ...errors } } },
    async (request, reply) => {
      try {
        return reply.status(201).send(await deps.auth.register(request.body, request.ip));
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
    async (request) => deps.workers.signOn(idOf(request), request.body, request.ip),
  );

  api.post(
    '/worker/sign-off',
    { ...worker, schema: { tags: ['worker protocol'], response: { 204: Type.Null(), ...errors } } },
    async (request, reply) => {
      await deps.workers.signOff(idOf(request));
      return reply.status(204).send(null);
    },
  );

  // Reads only: a sleeping worker polls here and acknowledges waking with POST /worker/state.
  api.get(
    '/worker/state',
    { ...worker, schema: { tags: ['worker protocol'], response: { 200: WorkerStateAnswer, ...errors } } },
    async (request) => deps.workers.state(idOf(request)),
  );

  api.post(
    '/worker/state',
    {
      ...worker,
      schema: { tags: ['worker protocol'], body: WorkerStateChange, response: { 204: Type.Null(), ...errors } },
    },
    async (request, reply) => {
      await deps.workers.acknowledge(idOf(request), request.body.status);
      return reply.status(204).send(null);
    },
  );
}

/** The long poll's answer: 200 a task, 423 a status change first, 204 nothing within the wait. */
async function answerNextTask(
  deps: WorkerProtocolRouteDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  waitMs: number | undefined,
  /** The finish request's report on the task just finished. */
  finish?: { taskId: string; update: TaskUpdate },
): Promise<FastifyReply | AssignedTask> {
  const abort = new AbortController();
  request.raw.on('close', () => abort.abort());
  const options = { waitMs, signal: abort.signal };
  const next = await (finish
    ? deps.workers.finishTask(idOf(request), finish.taskId, finish.update, options)
    : deps.workers.nextTask(idOf(request), options));
  if (next.kind === 'task') return next.task;
  if (next.kind === 'status-change') return reply.status(423).send(next.state);
  return reply.status(204).send(null);
}

/** Asking for work, and reporting on it: progress, logs, the right to keep running, previews. */
function registerTaskRoutes(api: App, deps: WorkerProtocolRouteDeps, worker: WorkerOnly): void {
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
    async (request, reply) => answerNextTask(deps, request, reply, request.query.waitMs),
  );

  // One round trip per task instead of two: the last update, then the long poll for the next.
  api.post(
    '/worker/tasks/:id/finish',
    {
      ...worker,
      schema: {
        tags: ['worker protocol'],
        params: IdParams,
        querystring: TaskRequestQuery,
        body: FinishTask,
        response: { 200: AssignedTask, 204: Type.Null(), 423: WorkerStateAnswer, ...errors },
      },
    },
    async (request, reply) =>
      answerNextTask(deps, request, reply, request.query.waitMs, { taskId: request.params.id, update: request.body }),
  );

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
      await deps.taskUpdates.apply(idOf(request), request.params.id, request.body);
      return reply.status(204).send(null);
    },
  );

  api.get(
    '/worker/tasks/:id/may-i-run',
    {
      ...worker,
      schema: { tags: ['worker protocol'], params: IdParams, response: { 200: MayKeepRunning, ...errors } },
    },
    async (request) => deps.taskControl.mayKeepRunning(idOf(request), request.params.id),
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
      const type = ((request.headers['content-type'] ?? '').split(';')[0] ?? '').trim();
      if (!PREVIEW_TYPES.includes(type))
        throw new ApiError(
          415,
          'unsupported_media_type',
          `a preview must be image/png or image/jpeg, not ${type || 'untyped'}`,
          'content-type',
        );
      try {
        await deps.outputs.storePreview(idOf(request), request.params.id, request.body as Buffer);
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
