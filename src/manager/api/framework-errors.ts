import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Socket } from 'node:net';
import { STATUS_CODES } from 'node:http';

/**
 * Fastify's own refusals, before any route runs, answered in Kiln's error shape like every
 * other error: a URL that does not decode, a path parameter longer than the router takes.
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const path = ((request.raw.url ?? '').split('?')[0] ?? '').slice(0, 200);
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    void reply.status(414).send({
      error: {
        code: 'too_long',
        message: `a path parameter of ${path} is longer than the API accepts`,
        field: 'path',
      },
    });
    return;
  }
  if (error.code === 'FST_ERR_BAD_URL') {
    void reply.status(400).send({
      error: {
        code: 'bad_url',
        message: `the URL ${path} is not valid: it holds a malformed escape (%..) or one that is not UTF-8 text`,
        field: 'url',
      },
    });
    return;
  }
  void reply.status(400).send({ error: { code: 'bad_request', message: error.message, field: 'url' } });
}

/**
 * Requests Node's HTTP parser refuses (headers too large, bad characters in a header, a
 * malformed request line) never reach Fastify; this writes the answer on the socket itself,
 * in Kiln's shape, then closes it as Node does.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message, field] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'timeout', 'the request did not arrive in time', undefined]
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'too_large', 'the request headers are too large', 'headers']
        : [
            400,
            'malformed_request',
            `the request is not valid HTTP (${error.code ?? 'parse error'})`,
            headerish(error.code) ? 'headers' : 'request',
          ];
  const body = JSON.stringify({ error: { code, message, ...(field ? { field } : {}) } });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

const headerish = (code: string | undefined): boolean => /HEADER|TOKEN|INVALID_CONSTANT/.test(code ?? '');
