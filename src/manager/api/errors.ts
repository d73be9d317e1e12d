import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { UserError } from '../../util/errors.js';
import { ShamanError } from '../../storage/index.js';
import { ConflictError, NotFoundError, isDatabaseUnavailable } from '../persistence/errors.js';
import { EtagMismatchError } from '../jobs/job-service.js';
import { AuthError } from '../workers/worker-auth.js';
import { InvalidTransitionError } from '../state/transitions.js';

/** An error the API answers with as it is: HTTP status, code, message and the field at fault. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

interface Answer {
  status: number;
  code: string;
  message: string;
  field?: string;
  headers?: Record<string, string>;
}

/** Maps anything thrown to the JSON error answer; only unexpected errors are 500s, without internals. */
function toAnswer(error: unknown): Answer {
  if (error instanceof ApiError)
    return { status: error.status, code: error.code, message: error.message, field: error.field };
  if (error instanceof ShamanError)
    return { status: error.httpStatus, code: error.code, message: error.message, field: error.field };
  if (error instanceof UserError)
    return {
      status: error.code === 'not_found' ? 404 : 400,
      code: error.code,
      message: error.message,
      field: error.field,
    };
  if (error instanceof NotFoundError)
    return { status: 404, code: `${error.entity.replace(' ', '_')}_not_found`, message: error.message, field: 'id' };
  if (error instanceof ConflictError) return { status: 409, code: error.code, message: error.message };
  if (error instanceof InvalidTransitionError)
    return { status: 409, code: error.code, message: error.message, field: 'status' };
  if (error instanceof EtagMismatchError)
    return { status: 412, code: 'stale_job_type', message: error.message, field: 'typeEtag' };
  if (error instanceof AuthError) return { status: 401, code: 'unauthorized', message: error.message };
  const fastify = error as FastifyError & {
    validation?: Array<{ instancePath: string; params: Record<string, unknown>; message?: string }>;
    validationContext?: string;
  };
  const first = fastify.validation?.[0];
  if (first) {
    const path = first.instancePath.replace(/^\//, '').replaceAll('/', '.');
    const missing = first.params.missingProperty as string | undefined;
    const extra = first.params.additionalProperty as string | undefined;
    const field = [path, missing ?? extra].filter(Boolean).join('.') || fastify.validationContext || 'body';
    const reason = extra ? 'is not a known field' : missing ? 'is required' : (first.message ?? 'is invalid');
    return { status: 400, code: 'invalid_request', message: `${field} ${reason}`, field };
  }
  switch (fastify.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return {
        status: 400,
        code: 'malformed_json',
        message: `the request body is not valid JSON: ${fastify.message}`,
        field: 'body',
      };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, code: 'too_large', message: 'the request body is too large', field: 'body' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, code: 'unsupported_media_type', message: fastify.message, field: 'content-type' };
  }
  if (error instanceof SyntaxError && fastify.statusCode === 400)
    return {
      status: 400,
      code: 'malformed_json',
      message: `the request body is not valid JSON: ${error.message}`,
      field: 'body',
    };
  if (isDatabaseUnavailable(error)) {
    return {
      status: 503,
      code: 'database_unavailable',
      message: 'the database is unavailable; retry shortly',
      headers: { 'retry-after': '5' },
    };
  }
  if (typeof fastify.statusCode === 'number' && fastify.statusCode >= 400 && fastify.statusCode < 500) {
    return { status: fastify.statusCode, code: fastify.code?.toLowerCase() ?? 'bad_request', message: fastify.message };
  }
  return { status: 500, code: 'internal', message: 'internal error; see the manager log' };
}

export function makeErrorHandler(log: Logger) {
  return (error: unknown, request: FastifyRequest, reply: FastifyReply): void => {
    const answer = toAnswer(error);
    if (answer.status >= 500 && answer.status !== 503) log.error({ err: error, url: request.url }, 'request failed');
    if (answer.headers) void reply.headers(answer.headers);
    void reply.status(answer.status).send({
      error: { code: answer.code, message: answer.message, ...(answer.field ? { field: answer.field } : {}) },
    });
  };
}
