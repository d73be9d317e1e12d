/** The ApiClient's settings, what its calls take and bring, and how a manager's address becomes its base URL. */
import type { AssignedTask, WorkerStateAnswer } from './types.js';

export const API_PREFIX = '/api/v1';
/** Time limit of an ordinary request (the long poll adds its wait to it). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** The manager's long poll holds a task request this long by default. */
export const DEFAULT_TASK_WAIT_MS = 30_000;

export interface WorkerCredentials {
  id: string;
  token: string;
}

export interface ApiClientOptions {
  /** The manager, e.g. `http://farm:7780` (`/api/v1` is added when missing). */
  baseUrl: string;
  /** Bearer token for the user side's mutating endpoints. */
  apiToken?: string | undefined;
  /** Basic credentials for the worker side. */
  worker?: WorkerCredentials | undefined;
  /** Time limit of one request in ms (default 30 s); 0 for none. */
  timeoutMs?: number;
  /** A fetch to use instead of the global one. */
  fetch?: typeof fetch;
}

export interface CallOptions {
  signal?: AbortSignal | undefined;
}

/** What a long-poll task request brings. */
export type TaskRequestResult =
  | { kind: 'task'; task: AssignedTask }
  /** No task came within the wait. */
  | { kind: 'none' }
  /** 423: the manager wants this worker to change status (asleep, offline, restart). */
  | { kind: 'status-change'; state: WorkerStateAnswer };

export type PreviewContentType = 'image/png' | 'image/jpeg';

/** Base URL with `/api/v1`, without a trailing slash. */
export function apiBaseUrl(managerUrl: string): string {
  let url: URL;
  try {
    url = new URL(managerUrl.includes('://') ? managerUrl : `http://${managerUrl}`);
  } catch {
    throw new TypeError(`not a manager URL: "${managerUrl}"`);
  }
  const path = url.pathname.replace(/\/+$/, '');
  url.pathname = path.endsWith(API_PREFIX) ? path : `${path}${API_PREFIX}`;
  url.search = '';
  url.hash = '';
  return url.toString().replace(/\/+$/, '');
}
