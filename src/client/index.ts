// The public surface of src/client: a typed client of the manager's HTTP API and its event stream.
export { apiBaseUrl, API_PREFIX } from './base-url.js';
export { StorageClient } from './storage-client.js';
export {
  ApiClient,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_TASK_WAIT_MS,
  type ApiClientOptions,
  type CallOptions,
  type PreviewContentType,
  type TaskRequestResult,
  type WorkerCredentials,
} from './api-client.js';
export {
  ApiError,
  ManagerUnreachableError,
  ProtocolError,
  isRetryable,
  parseRetryAfter,
  networkErrorCode,
} from './errors.js';
export { EventStreamParser, readServerEvents, type KilnEventName, type ServerEvent } from './events.js';
export type * from './types.js';
