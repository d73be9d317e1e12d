/**
 * The two ways a call to the manager fails: the manager answered with an error (ApiError), or
 * it could not be reached at all (ManagerUnreachableError). Callers that retry tell them apart
 * with `isRetryable`.
 */

/** The manager answered with an HTTP error; `code`, `message` and `field` come from its JSON body. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: number;
  readonly code: string;
  readonly field: string | undefined;
  /** Seconds the manager asked the caller to wait (`Retry-After`), when it said so. */
  readonly retryAfter: number | undefined;
  readonly method: string;
  readonly url: string;

  constructor(init: {
    status: number;
    code: string;
    message: string;
    field?: string | undefined;
    retryAfter?: number | undefined;
    method: string;
    url: string;
  }) {
    super(init.message);
    this.status = init.status;
    this.code = init.code;
    this.field = init.field;
    this.retryAfter = init.retryAfter;
    this.method = init.method;
    this.url = init.url;
  }

  /** `Retry-After` in milliseconds, when given. */
  get retryAfterMs(): number | undefined {
    return this.retryAfter === undefined ? undefined : this.retryAfter * 1000;
  }
}

/** No HTTP answer: connection refused or reset, DNS failure, or no answer within the time limit. */
export class ManagerUnreachableError extends Error {
  override readonly name = 'ManagerUnreachableError';
  readonly method: string;
  readonly url: string;

  constructor(method: string, url: string, cause: unknown) {
    super(`manager unreachable (${method} ${url}): ${describeCause(cause)}`, { cause });
    this.method = method;
    this.url = url;
  }
}

/** The manager returned something that is not what the API promises (e.g. bad JSON). */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

/**
 * Worth trying again later: the manager is unreachable, overloaded or its database is down
 * (5xx, 429, 408). Anything else is an answer that will not change by itself.
 */
export function isRetryable(error: unknown): boolean {
  if (error instanceof ManagerUnreachableError) return true;
  if (error instanceof ApiError) return error.status >= 500 || error.status === 429 || error.status === 408;
  return false;
}

/** `Retry-After` as seconds: either a number of seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

/** The innermost useful message of a fetch failure ("connect ECONNREFUSED 127.0.0.1:7780"). */
export function describeCause(cause: unknown): string {
  let current: unknown = cause;
  let message = cause instanceof Error ? cause.message : String(cause);
  for (let depth = 0; depth < 5 && current instanceof Error && current.cause !== undefined; depth++) {
    current = current.cause;
    if (current instanceof Error && current.message) message = current.message;
    else if (current && typeof current === 'object' && 'code' in current)
      message = String((current as { code: unknown }).code);
  }
  return message;
}

/** Failures where no connection was made: the manager never saw the request. */
const NOT_CONNECTED = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * Whether a call that got no answer may have reached the manager (a connection was made): then
 * the manager may have acted on it, and a call that changes something must not be sent again
 * behind the caller's back.
 */
export function mayHaveReachedManager(error: unknown): boolean {
  const code = networkErrorCode(error);
  return code === undefined || !NOT_CONNECTED.has(code);
}

/** The system error code under a fetch failure (ECONNREFUSED, ENOTFOUND...), when there is one. */
export function networkErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current; depth++) {
    if (typeof current === 'object' && current !== null && 'code' in current && typeof current.code === 'string')
      return current.code;
    current = current instanceof Error ? current.cause : undefined;
  }
  return undefined;
}
