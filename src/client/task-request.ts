/** The worker's long poll for a task (POST /worker/task, and /worker/tasks/:id/finish) and what it brings. */
import { DEFAULT_TASK_WAIT_MS, type CallOptions } from './client-options.js';
import type { HttpTransport } from './http.js';
import type { AssignedTask, WorkerStateAnswer } from './types.js';

/** What a long-poll task request brings. */
export type TaskRequestResult =
  | { kind: 'task'; task: AssignedTask }
  /** No task came within the wait. */
  | { kind: 'none' }
  /** 423: the manager wants this worker to change status (asleep, offline, restart). */
  | { kind: 'status-change'; state: WorkerStateAnswer };

/** POSTs to a long-poll route; the time limit is the wait plus the client's usual one (0: none). */
export async function longPoll(
  http: HttpTransport,
  path: string,
  json: unknown,
  options: CallOptions & { waitMs?: number },
  timeoutMs: number,
): Promise<TaskRequestResult> {
  const waitMs = options.waitMs ?? DEFAULT_TASK_WAIT_MS;
  const response = await http.call({
    method: 'POST',
    path,
    query: { waitMs },
    json,
    auth: 'worker',
    accept: [423],
    signal: options.signal,
    timeoutMs: timeoutMs === 0 ? 0 : waitMs + timeoutMs,
  });
  if (response.status === 204) return { kind: 'none' };
  if (response.status === 423)
    return { kind: 'status-change', state: await http.parse<WorkerStateAnswer>(response, 'POST') };
  return { kind: 'task', task: await http.parse<AssignedTask>(response, 'POST') };
}
