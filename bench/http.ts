import http from 'node:http';

/**
 * A lean JSON-over-HTTP client for simulated workers: node:http with a keep-alive agent.
 * (Global fetch costs several times the client CPU per request; on 2 cores shared with the
 * manager and PostgreSQL that would be measured as the manager's slowness.)
 */
export class HttpClient {
  readonly agent: http.Agent;
  readonly #host: string;
  readonly #port: number;
  readonly #prefix: string;

  constructor(baseUrl: string, options: { maxSockets?: number } = {}) {
    const url = new URL(baseUrl);
    this.#host = url.hostname;
    this.#port = Number(url.port);
    this.#prefix = url.pathname.replace(/\/$/, '');
    this.agent = new http.Agent({
      keepAlive: true,
      maxSockets: options.maxSockets ?? Infinity,
      keepAliveMsecs: 10_000,
    });
  }

  request(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
    // biome-ignore lint/suspicious/noExplicitAny: the manager's JSON answer, unvalidated; callers read the fields they asked for
  ): Promise<{ status: number; body: any }> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: this.#host,
          port: this.#port,
          path: this.#prefix + path,
          method,
          agent: this.agent,
          headers: {
            ...headers,
            ...(payload
              ? { 'content-type': 'application/json', 'content-length': String(payload.length) }
              : { 'content-length': '0' }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            let parsed: unknown = text;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              // not JSON
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

export interface AssignedTask {
  id: string;
  jobId: string;
  name: string;
}

/** A worker speaking the worker protocol over real HTTP; it runs nothing, it only reports. */
export class SimWorker {
  id = '';
  #auth: Record<string, string> = {};

  constructor(
    readonly client: HttpClient,
    readonly name: string,
  ) {}

  async register(farmSecret: string): Promise<void> {
    const hello = { name: this.name, platform: 'linux', supportedTaskTypes: ['render', 'video', 'misc'], tags: [] };
    const registered = await this.client.request('POST', '/api/v1/worker/register', { secret: farmSecret, ...hello });
    if (registered.status !== 201) throw new Error(`register: ${registered.status} ${JSON.stringify(registered.body)}`);
    this.id = registered.body.id;
    this.#auth = {
      authorization: `Basic ${Buffer.from(`${registered.body.id}:${registered.body.token}`).toString('base64')}`,
    };
  }

  async signOn(): Promise<void> {
    const response = await this.call('POST', '/worker/sign-on', {
      name: this.name,
      platform: 'linux',
      supportedTaskTypes: ['render', 'video', 'misc'],
      tags: [],
    });
    if (response.status !== 200) throw new Error(`sign-on: ${response.status} ${JSON.stringify(response.body)}`);
  }

  // biome-ignore lint/suspicious/noExplicitAny: the manager's JSON answer, as request() gives it
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    return this.client.request(method, `/api/v1${path}`, body, this.#auth);
  }

  /** The long poll: a task, or undefined after waitMs. Throws on anything else. */
  async next(waitMs: number): Promise<AssignedTask | undefined> {
    const response = await this.call('POST', `/worker/task?waitMs=${waitMs}`);
    if (response.status === 204) return undefined;
    if (response.status !== 200) throw new Error(`task request: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body as AssignedTask;
  }

  /** Completes a task and long-polls for the next one in the same request (one round trip per task). */
  async finish(taskId: string, waitMs: number): Promise<AssignedTask | undefined> {
    const response = await this.call('POST', `/worker/tasks/${taskId}/finish?waitMs=${waitMs}`, {
      status: 'completed',
    });
    if (response.status === 204) return undefined;
    if (response.status !== 200) throw new Error(`finish: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body as AssignedTask;
  }

  async complete(taskId: string): Promise<void> {
    const response = await this.call('POST', `/worker/tasks/${taskId}/update`, { status: 'completed' });
    if (response.status !== 204) throw new Error(`complete: ${response.status} ${JSON.stringify(response.body)}`);
  }
}

/** Runs fn over items with at most `limit` at a time. */
export async function eachLimit<T>(
  items: T[],
  limit: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  // One iterator shared by the lanes: each takes the next item when it is free.
  const queue = items.entries();
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      for (const [index, item] of queue) await fn(item, index);
    }),
  );
}
