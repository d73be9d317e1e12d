/** How an ApiClient is set up and what every call may take. */
import type { ManagerObserver } from './manager-urls.js';

/** Time limit of an ordinary request (the long poll adds its wait to it). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** The manager's long poll holds a task request this long by default. */
export const DEFAULT_TASK_WAIT_MS = 30_000;

export interface WorkerCredentials {
  id: string;
  token: string;
}

export interface ApiClientOptions {
  /**
   * The manager, e.g. `http://farm:7780` (`/api/v1` is added when missing); several managers of one
   * farm as a list or comma-separated (`http://a:7780,http://b:7780`): the client moves on when one is unreachable.
   */
  baseUrl: string | readonly string[];
  /** Bearer token for the user side's mutating endpoints. */
  apiToken?: string | undefined;
  /** Basic credentials for the worker side. */
  worker?: WorkerCredentials | undefined;
  /** Time limit of one request in ms (default 30 s; of silence for an upload); 0 for none. */
  timeoutMs?: number;
  /**
   * With several managers: a call's first answer (its response headers) within this, or its manager
   * is asked GET /version, which must answer within this too, or the manager counts as hung and the
   * client goes on with another (answer-watch.ts). Default 3 s; 0: wait out `timeoutMs`.
   */
  firstAnswerMs?: number;
  /** While a call waits for its first answer, its manager is asked again this often (default 10 s). */
  probeIntervalMs?: number;
  /** Told when a manager is passed over and which manager answered each call. */
  observer?: ManagerObserver;
  /** A fetch to use instead of the global one. */
  fetch?: typeof fetch;
}

export interface CallOptions {
  signal?: AbortSignal | undefined;
}
