/** Errors the store raises, already translated from the driver; the API maps them to HTTP codes. */
export class NotFoundError extends Error {
  constructor(
    readonly entity: 'job' | 'task' | 'worker' | 'job type',
    readonly id: string,
  ) {
    super(`no ${entity} ${id}`);
    this.name = 'NotFoundError';
  }
}

export class ConflictError extends Error {
  constructor(
    message: string,
    readonly code = 'conflict',
  ) {
    super(message);
    this.name = 'ConflictError';
  }
}

/** SQLSTATE classes meaning "the database is not there right now" (retry later). */
const UNAVAILABLE_CODES = new Set(['57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004', '53300']);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOENT', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH']);

export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: string }).code;
  if (code && (UNAVAILABLE_CODES.has(code) || NETWORK_CODES.has(code))) return true;
  return /Connection terminated|connection timeout|Client has encountered a connection error|terminating connection|the database system is (starting up|shutting down)/i.test(
    error.message,
  );
}
