/**
 * For tests only: a tiny HTTP server on 127.0.0.1 that records requests and answers with a
 * handler the test gives. It stands in for the manager in client and worker tests until the real
 * one runs; it can be stopped (connections refused) and started again on the same port.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** Path without the query, e.g. /api/v1/worker/task. */
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: Buffer;
  /** The body parsed as JSON, when it is. */
  json: unknown;
}

export type Handler = (request: RecordedRequest, response: ServerResponse) => void | Promise<void>;

export interface TinyServer {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  readonly requests: RecordedRequest[];
  handler: Handler;
  /** Stops listening and drops open connections: clients then get "connection refused". */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
}

export function sendJson(
  response: ServerResponse,
  status: number,
  body?: unknown,
  headers: Record<string, string> = {},
): void {
  if (body === undefined) {
    response.writeHead(status, headers).end();
    return;
  }
  response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

export function sendError(
  response: ServerResponse,
  status: number,
  code: string,
  message: string,
  extra: { field?: string; headers?: Record<string, string> } = {},
): void {
  sendJson(
    response,
    status,
    { error: { code, message, ...(extra.field ? { field: extra.field } : {}) } },
    extra.headers,
  );
}

/** Starts the server; it is closed when the test ends. */
export async function startTinyServer(
  t: { after: (fn: () => unknown) => void },
  handler: Handler,
): Promise<TinyServer> {
  const requests: RecordedRequest[] = [];
  let server: Server | undefined;
  let port = 0;

  const make = (): Server =>
    createServer((incoming, response) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => {
        const url = new URL(incoming.url ?? '/', 'http://localhost');
        const body = Buffer.concat(chunks);
        let json: unknown;
        try {
          json = body.length ? JSON.parse(body.toString('utf8')) : undefined;
        } catch {
          json = undefined;
        }
        const request: RecordedRequest = {
          method: incoming.method ?? 'GET',
          path: url.pathname,
          query: url.searchParams,
          headers: incoming.headers,
          body,
          json,
        };
        requests.push(request);
        Promise.resolve(tiny.handler(request, response)).catch((error: unknown) => {
          if (!response.headersSent) sendError(response, 500, 'test_handler', String(error));
        });
      });
    });

  const listen = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const next = make();
      next.once('error', reject);
      next.listen(port, '127.0.0.1', () => {
        port = (next.address() as AddressInfo).port;
        server = next;
        resolve();
      });
    });

  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      const current = server;
      server = undefined;
      if (!current) return resolve();
      current.close(() => resolve());
      current.closeAllConnections();
    });

  const tiny: TinyServer = {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    requests,
    handler,
    stop,
    start: listen,
  };
  await listen();
  t.after(stop);
  return tiny;
}
