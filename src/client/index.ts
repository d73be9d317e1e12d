// The public surface of src/client: a typed client of the manager's HTTP API and its event stream.
export { API_PREFIX } from './base-url.js';
export { ApiClient } from './api-client.js';
export {
  ApiError,
  ManagerUnreachableError,
  ProtocolError,
  isRetryable,
  mayHaveReachedManager,
  networkErrorCode,
} from './errors.js';
export type { ServerEvent } from './events.js';
export type { ManagerObserver } from './manager-urls.js';
export type * from './types.js';
