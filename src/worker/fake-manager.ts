/**
 * For tests only: the smallest stand-in for the manager's worker endpoints that lets the worker
 * loop run end to end (the real manager is not runnable yet). It registers workers with a farm
 * secret, checks Basic credentials, hands out queued tasks on the long poll, answers 423 when a
 * status change is requested, and records every update and preview.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AssignedTask, TaskUpdate, WorkerStatus } from '../client/types.js';
import { DEFAULT_PRIORITY } from '../jobs/types.js';
import { sendError, sendJson, startTinyServer, type RecordedRequest, type TinyServer } from '../client/testing.js';

export const FARM_SECRET = 'farm-secret';

export interface FakeManager {
  server: TinyServer;
  readonly url: string;
  /** Registered workers: id → token. */
  workers: Map<string, string>;
  /** Tasks waiting for a worker. */
  queue: AssignedTask[];
  /** Task id → the worker holding it. */
  holders: Map<string, string>;
  /** Task ids the manager wants stopped (may-i-run says no). */
  stopped: Set<string>;
  updates: Array<{ taskId: string; workerId: string; update: TaskUpdate }>;
  previews: Array<{ taskId: string; contentType: string; bytes: number }>;
  /** The status the manager asks workers to take (null: none). */
  requested: WorkerStatus | null;
  /** Workers the manager put in `error`: refused (409 sign_on_required) until they sign on again. */
  mustSignOn: Set<string>;
  calls(path: string): RecordedRequest[];
  addTask(commands: AssignedTask['commands'], name?: string): AssignedTask;
  statusesOf(taskId: string): string[];
}

export async function startFakeManager(t: { after: (fn: () => unknown) => void }): Promise<FakeManager> {
  const manager: FakeManager = {
    server: undefined as unknown as TinyServer,
    get url() {
      return this.server.url;
    },
    workers: new Map(),
    queue: [],
    holders: new Map(),
    stopped: new Set(),
    updates: [],
    previews: [],
    requested: null,
    mustSignOn: new Set(),
    calls(path) {
      return this.server.requests.filter((request) => request.path === `/api/v1${path}`);
    },
    addTask(commands, name = `task ${manager.queue.length + 1}`) {
      const task: AssignedTask = {
        id: randomUUID(),
        jobId: randomUUID(),
        jobName: 'test job',
        jobType: 'echo-sleep',
        name,
        type: 'misc',
        priority: DEFAULT_PRIORITY,
        commands,
      };
      this.queue.push(task);
      return task;
    },
    statusesOf(taskId) {
      return this.updates
        .filter((entry) => entry.taskId === taskId && entry.update.status)
        .map((entry) => entry.update.status as string);
    },
  };

  manager.server = await startTinyServer(t, (request, response) => serve(manager, request, response));
  return manager;
}

/** One request, answered as the manager's worker endpoints would. */
async function serve(manager: FakeManager, request: RecordedRequest, response: ServerResponse): Promise<void> {
  const path = request.path.replace(/^\/api\/v1/, '');
  if (path === '/worker/register') return register(manager, request, response);
  const workerId = authenticate(manager, request);
  if (!workerId) return sendError(response, 401, 'unauthorized', 'unknown worker');
  if (path === '/worker/sign-on') {
    manager.mustSignOn.delete(workerId);
    return sendJson(response, 200, stateOf(manager));
  }
  if (manager.mustSignOn.has(workerId) && (path === '/worker/task' || path === '/worker/state')) {
    return sendError(response, 409, 'sign_on_required', 'this worker is error: it must sign on again first');
  }
  if (path === '/worker/sign-off') return sendJson(response, 204);
  if (path === '/worker/state' && request.method === 'POST') return sendJson(response, 204);
  if (path === '/worker/state') return sendJson(response, 200, stateOf(manager));
  if (path === '/worker/task') return serveTaskPoll(manager, workerId, request, response);
  const match = /^\/worker\/tasks\/([^/]+)\/(update|may-i-run|preview)$/.exec(path);
  if (match) {
    const [, taskId = '', action = ''] = match;
    return serveTaskAction(manager, { workerId, taskId, action }, request, response);
  }
  return sendError(response, 404, 'not_found', `no route ${request.method} ${request.path}`);
}

function register(manager: FakeManager, request: RecordedRequest, response: ServerResponse): void {
  const body = request.json as { secret?: string };
  if (body.secret !== FARM_SECRET) {
    sendError(response, 403, 'forbidden', 'wrong farm secret');
    return;
  }
  const id = randomUUID();
  const token = randomUUID();
  manager.workers.set(id, token);
  sendJson(response, 201, { id, token });
}

/** The worker whose Basic credentials the request carries, if they are right. */
function authenticate(manager: FakeManager, request: RecordedRequest): string | undefined {
  const header = request.headers.authorization ?? '';
  if (!header.startsWith('Basic ')) return undefined;
  const [id, token] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':');
  return id !== undefined && manager.workers.get(id) === token ? id : undefined;
}

const stateOf = (manager: FakeManager) => ({ statusRequested: manager.requested, lazy: false });
const isBlocking = (manager: FakeManager): boolean =>
  manager.requested === 'asleep' || manager.requested === 'offline' || manager.requested === 'restart';

/** The long poll: a queued task, 423 while a status change is requested, 204 after the wait. */
async function serveTaskPoll(
  manager: FakeManager,
  workerId: string,
  request: RecordedRequest,
  response: ServerResponse,
): Promise<void> {
  const deadline = Date.now() + Math.min(Number(request.query.get('waitMs') ?? 30000), 2000);
  for (;;) {
    if (isBlocking(manager)) return sendJson(response, 423, stateOf(manager));
    const task = manager.queue.shift();
    if (task) {
      manager.holders.set(task.id, workerId);
      return sendJson(response, 200, task);
    }
    if (Date.now() >= deadline || response.destroyed) return sendJson(response, 204);
    await sleep(20);
  }
}

/** An update, a preview or a may-i-run for a task the worker must hold. */
function serveTaskAction(
  manager: FakeManager,
  { workerId, taskId, action }: { workerId: string; taskId: string; action: string },
  request: RecordedRequest,
  response: ServerResponse,
): void {
  if (manager.holders.get(taskId) !== workerId) {
    sendError(response, 409, 'not_your_task', 'this worker does not hold the task');
    return;
  }
  if (action === 'update') {
    manager.updates.push({ taskId, workerId, update: request.json as TaskUpdate });
    sendJson(response, 204);
    return;
  }
  if (action === 'preview') {
    manager.previews.push({
      taskId,
      contentType: String(request.headers['content-type']),
      bytes: request.body.length,
    });
    sendJson(response, 204);
    return;
  }
  const stop = manager.stopped.has(taskId);
  sendJson(response, 200, {
    mayKeepRunning: !stop,
    reason: stop ? 'the job was canceled' : '',
    statusRequested: manager.requested,
  });
}
