import { ApiError } from './errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TOKEN = /^[A-Za-z0-9_-]{1,200}$/;

/**
 * A worker's `Authorization: Basic id:token`, checked for form before anything is looked up:
 * an id that is not a UUID or a token that is not one Kiln issues is refused here (401), so it
 * never reaches PostgreSQL (which would refuse a non-UUID id with an error, not an answer).
 */
export function parseWorkerCredentials(header: string | undefined): { id: string; token: string } {
  const value = header ?? '';
  const decoded = value.startsWith('Basic ') ? Buffer.from(value.slice(6), 'base64').toString('utf8') : '';
  const colon = decoded.indexOf(':');
  if (colon < 1)
    throw new ApiError(
      401,
      'unauthorized',
      "worker endpoints need the worker's credentials (Authorization: Basic id:token); register first",
    );
  const id = decoded.slice(0, colon);
  const token = decoded.slice(colon + 1);
  if (!UUID.test(id))
    throw new ApiError(
      401,
      'unauthorized',
      'worker credentials refused: the worker id is not a UUID; register again',
      'authorization',
    );
  if (!TOKEN.test(token))
    throw new ApiError(
      401,
      'unauthorized',
      'worker credentials refused: malformed worker token; register again',
      'authorization',
    );
  return { id, token };
}
