/**
 * The HTTP plumbing under ApiClient: URLs, headers, time limits, and turning every failure into
 * ApiError (an error answer) or ManagerUnreachableError (no answer).
 */
import { AnswerWatch } from './answer-watch.js';
import { ApiError, ManagerUnreachableError, ProtocolError, describeCause, parseRetryAfter } from './errors.js';
import { IdleTimeout, touchingEach } from './idle-timeout.js';
import { ManagerUrls } from './manager-urls.js';

export type Auth = 'none' | 'user' | 'worker';
type Query = Record<string, string | number | boolean | undefined>;

export interface RequestSpec {
  signal?: AbortSignal | undefined;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  query?: Query | undefined;
  json?: unknown;
  raw?: { body: Uint8Array; contentType: string };
  /**
   * A body streamed as it is read (a file of any size). The time limit is then one of silence:
   * `timeoutMs` without a chunk taken by the connection or a byte of the answer.
   */
  upload?: { body: AsyncIterable<Uint8Array>; contentType: string };
  /** Further request headers. */
  headers?: Record<string, string>;
  auth: Auth;
  /** Statuses besides 2xx that are answers, not errors (e.g. 423 for the long poll). */
  accept?: readonly number[];
  timeoutMs?: number | undefined;
  /** Keys a JSON answer must have; without them it is not the manager's answer (ProtocolError). */
  expect?: readonly string[];
  /** 'stream': no time limit once the headers are in; the caller reads the body. */
  kind?: 'stream';
  lastEventId?: string | undefined;
}

export interface HttpTransportOptions {
  /** The managers (base URLs including /api/v1); calls go to the current one and move on when it is unreachable. */
  urls: ManagerUrls;
  /** Default time limit of a request in ms; 0 for none. */
  timeoutMs: number;
  /** With another manager left to try: its first answer (or one to a probe) within this, or it hung; 0: no watch. */
  firstAnswerMs: number;
  /** While a call waits for its first answer, its manager is asked again this often. */
  probeIntervalMs: number;
  fetch: typeof fetch;
  /** The Authorization header for a kind of endpoint, if any. */
  authorization: (auth: Auth) => string | undefined;
}

export class HttpTransport {
  readonly #options: HttpTransportOptions;

  constructor(options: HttpTransportOptions) {
    this.#options = options;
  }

  async json<T>(spec: RequestSpec): Promise<T> {
    const { response, done } = await this.#send(spec);
    let parsed: T;
    try {
      parsed = await this.parse<T>(response, spec.method);
    } finally {
      done();
    }
    // Every answer of the API is a JSON object; anything else came from something that is not Kiln.
    const missing =
      parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)
        ? ['an object']
        : (spec.expect ?? []).filter((key) => !(key in (parsed as object)));
    if (missing.length)
      throw new ProtocolError(
        `${spec.method} ${response.url}: expected ${missing.join(', ')} in the answer, got ${JSON.stringify(parsed).slice(0, 120)}`,
      );
    return parsed;
  }

  async parse<T>(response: Response, method: string): Promise<T> {
    const text = await this.read(response, method, () => response.text());
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ProtocolError(`${method} ${response.url}: expected JSON, got ${JSON.stringify(text.slice(0, 200))}`);
    }
  }

  /** Reads a body; a connection lost half-way is the manager being unreachable. */
  async read<T>(response: Response, method: string, read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      if (isAbort(error)) throw error;
      const base = this.#options.urls.baseOf(response.url);
      if (base) this.#options.urls.moveFrom(base, describeCause(error));
      throw new ManagerUnreachableError(method, response.url, error);
    }
  }

  async call(spec: RequestSpec): Promise<Response> {
    return (await this.#send(spec)).response;
  }

  /**
   * The request, to the current manager; one that could not be reached (or hung) is left for the
   * next, and the request goes there too when that is safe (ManagerUrls.retryElsewhere).
   */
  async #send(spec: RequestSpec): Promise<{ response: Response; done: () => void }> {
    const { urls } = this.#options;
    for (let tries = 1; ; tries++) {
      const base = urls.current;
      try {
        return await this.#sendTo(base, spec, tries < urls.all.length);
      } catch (error) {
        if (!(error instanceof ManagerUnreachableError) || spec.signal?.aborted) throw error;
        urls.moveFrom(base, describeCause(error));
        if (tries >= urls.all.length || !ManagerUrls.retryElsewhere(spec.method, error, !spec.upload)) throw error;
      }
    }
  }

  /**
   * The request to one manager; `done()` ends an upload's idle limit once its answer is read.
   * With another manager left to try, a manager that hangs is found out early (AnswerWatch).
   */
  async #sendTo(
    baseUrl: string,
    spec: RequestSpec,
    othersLeft: boolean,
  ): Promise<{ response: Response; done: () => void }> {
    const url = new URL(baseUrl + spec.path);
    for (const [key, value] of Object.entries(spec.query ?? {})) {
      if (value !== undefined && value !== '') url.searchParams.set(key, String(value));
    }
    const timeoutMs = spec.timeoutMs ?? this.#options.timeoutMs;
    const idle = spec.upload && timeoutMs > 0 ? new IdleTimeout(timeoutMs) : undefined;
    const timeout =
      !spec.upload && spec.kind !== 'stream' && timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : undefined;
    const watch = othersLeft ? this.#watch(baseUrl) : undefined;
    const signals = [spec.signal, timeout, idle?.signal, watch?.signal].filter(
      (signal): signal is AbortSignal => signal !== undefined,
    );
    const signal = signals.length === 0 ? undefined : signals.length === 1 ? signals[0] : AbortSignal.any(signals);

    let response: Response;
    try {
      response = await this.#options.fetch(url, { ...this.#init(spec, idle), ...(signal ? { signal } : {}) });
    } catch (error) {
      idle?.clear();
      // The caller's own abort stays an abort; anything else (refused, reset, timed out, hung) is "unreachable".
      if (spec.signal?.aborted) throw spec.signal.reason ?? error;
      const limit = timeout?.aborted
        ? new Error(`no answer within ${timeoutMs} ms`)
        : idle?.expired
          ? new Error(`no progress within ${timeoutMs} ms`)
          : watch?.hung;
      throw new ManagerUnreachableError(spec.method, url.toString(), limit ?? error);
    } finally {
      watch?.answered();
    }
    idle?.touch();
    this.#options.urls.observer.answered?.({
      manager: baseUrl,
      method: spec.method,
      path: url.pathname + url.search,
      status: response.status,
    });
    const done = (): void => idle?.clear();
    if (response.ok || spec.accept?.includes(response.status)) return { response, done };
    try {
      throw await errorOf(response, spec.method, url.toString());
    } finally {
      done();
    }
  }

  /** Method, headers and body of a request. */
  #init(spec: RequestSpec, idle: IdleTimeout | undefined): RequestInit {
    const headers: Record<string, string> = {
      ...spec.headers,
      accept: spec.kind === 'stream' ? 'text/event-stream' : 'application/json',
    };
    if (spec.lastEventId !== undefined) headers['last-event-id'] = spec.lastEventId;
    const authorization = this.#options.authorization(spec.auth);
    if (authorization) headers.authorization = authorization;
    let body: string | Uint8Array | AsyncIterable<Uint8Array> | undefined;
    if (spec.upload) {
      headers['content-type'] = spec.upload.contentType;
      body = idle ? touchingEach(spec.upload.body, idle) : spec.upload.body;
    } else if (spec.raw) {
      headers['content-type'] = spec.raw.contentType;
      body = spec.raw.body;
    } else if (spec.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(spec.json);
    }
    return {
      method: spec.method,
      headers,
      // Node's fetch streams an async iterable (undici); the DOM types do not list it.
      ...(body === undefined ? {} : { body: body as NonNullable<RequestInit['body']> }),
      ...(spec.upload ? { duplex: 'half' } : {}),
    } as RequestInit;
  }

  /** Watches a call to `baseUrl` for a hung manager, when the client is set to (firstAnswerMs > 0). */
  #watch(baseUrl: string): AnswerWatch | undefined {
    const { firstAnswerMs, probeIntervalMs, fetch: send, urls } = this.#options;
    if (!(firstAnswerMs > 0)) return undefined;
    const startedAt = Date.now();
    return new AnswerWatch({
      firstAnswerMs,
      probeIntervalMs,
      probe: async (signal) => {
        const response = await send(`${baseUrl}/version`, { headers: { accept: 'application/json' }, signal });
        await response.body?.cancel();
      },
      givenUp: () => (urls.passedOverAt(baseUrl) ?? 0) > startedAt,
    });
  }
}

/** The ApiError for an error answer: code, message and field from its JSON body, Retry-After. */
async function errorOf(response: Response, method: string, url: string): Promise<ApiError> {
  let text = '';
  try {
    text = await response.text();
  } catch {
    // The status alone says enough.
  }
  let code = `http_${response.status}`;
  let message = `${response.status} ${response.statusText}`.trim();
  let field: string | undefined;
  let kiln = false;
  try {
    const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; field?: unknown } };
    if (parsed.error && typeof parsed.error === 'object') {
      if (typeof parsed.error.code === 'string') code = parsed.error.code;
      if (typeof parsed.error.message === 'string') message = parsed.error.message;
      if (typeof parsed.error.field === 'string') field = parsed.error.field;
      kiln = typeof parsed.error.code === 'string' && typeof parsed.error.message === 'string';
    }
  } catch {
    if (text.trim() !== '') message = `${message}: ${text.trim().slice(0, 300)}`;
  }
  // A Kiln manager refuses with { error: { code, message } }. A refusal without it (an empty
  // 404, a web server's HTML page, another API's JSON) comes from something else at that URL.
  // 5xx stays an ApiError: a proxy in front of a restarting manager answers so, and callers retry.
  if (!kiln && response.status < 500) {
    const what =
      text.trim() === ''
        ? 'an empty body'
        : /^\s*</.test(text)
          ? 'an HTML page'
          : isJson(text)
            ? 'JSON that is not a Kiln error'
            : 'text that is not a Kiln error';
    throw new ProtocolError(
      `${method} ${url}: answered ${response.status} ${response.statusText} with ${what}`.replace(/ {2,}/g, ' '),
    );
  }
  return new ApiError({
    status: response.status,
    code,
    message,
    field,
    retryAfter: parseRetryAfter(response.headers.get('retry-after')),
    method,
    url,
  });
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** The caller stopped the call (a time limit of ours is not an abort: it means no answer). */
function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}
