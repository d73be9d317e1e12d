import { ApiError } from './errors.js';

/** Deeper than any real setting needs; far below what would exhaust the stack. */
const MAX_JSON_DEPTH = 32;

/** A UTF-16 surrogate without its pair; in a `u` regex only unpaired ones match. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * Refuses input PostgreSQL or the validators cannot take, before it reaches them: a NUL
 * character (text and jsonb cannot store U+0000), a lone UTF-16 surrogate (not text at all:
 * it cannot be written as UTF-8, so PostgreSQL would refuse it or it would change on the way),
 * a number JSON overflowed to Infinity, and JSON nested deeper than MAX_JSON_DEPTH.
 * Walks iteratively so a hostile body cannot overflow the stack here either.
 */
export function checkRequestInput(value: unknown, root: string): void {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value, path: root, depth: 0 }];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const { value: current, path, depth } = next;
    if (typeof current === 'string') {
      checkText(current, path, path);
      continue;
    }
    if (typeof current === 'number') {
      if (!Number.isFinite(current))
        throw new ApiError(
          400,
          'invalid_request',
          `${path || 'body'} is a number too large to represent`,
          path || 'body',
        );
      continue;
    }
    // Only parsed JSON and query objects; streamed bodies (uploads) and buffers pass as they are.
    if (!isPlainData(current)) continue;
    if (depth >= MAX_JSON_DEPTH)
      throw new ApiError(400, 'invalid_request', `${path} is nested deeper than ${MAX_JSON_DEPTH} levels`, path);
    const entries = Array.isArray(current)
      ? current.map((item, index) => [String(index), item] as const)
      : Object.entries(current);
    for (const [key, item] of entries) {
      checkText(key, `${path || 'body'} has a key that`, path);
      stack.push({ value: item, path: path ? `${path}.${key}` : key, depth: depth + 1 });
    }
  }
}

/** The same rules for one piece of text (a header value, a credential); `subject` starts the message. */
function checkText(text: string, subject: string, field: string): void {
  const what = subject || 'body';
  if (text.includes('\u0000'))
    throw new ApiError(
      400,
      'invalid_request',
      `${what} contains a NUL character (\\u0000), which cannot be stored`,
      field || 'body',
    );
  if (LONE_SURROGATE.test(text))
    throw new ApiError(
      400,
      'invalid_request',
      `${what} contains a lone UTF-16 surrogate, which is not valid text`,
      field || 'body',
    );
}

/**
 * Parsed JSON (plain objects and arrays) and parsed query strings, whose objects come from a
 * null-prototype constructor; not streams, buffers or other class instances.
 */
function isPlainData(value: unknown): value is object {
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return true;
  if (ArrayBuffer.isView(value) || typeof (value as { pipe?: unknown }).pipe === 'function') return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null || Object.getPrototypeOf(prototype) === null;
}

/**
 * A query string whose escapes do not decode (`%zz`, `%ED%A0%80`, a lone surrogate in UTF-8)
 * is refused like such a path: the query parser would otherwise keep the escape as literal text.
 */
export function checkQueryEscapes(url: string): void {
  const start = url.indexOf('?');
  if (start < 0) return;
  for (const part of url.slice(start + 1).split('&')) {
    try {
      decodeURIComponent(part.replaceAll('+', ' '));
    } catch {
      const name = part.split('=')[0] ?? '';
      let field = 'query';
      try {
        field = decodeURIComponent(name) || 'query';
      } catch {
        // the name itself does not decode
      }
      throw new ApiError(
        400,
        'bad_url',
        `the query parameter ${field} holds a malformed escape (%..) or one that is not UTF-8 text`,
        field,
      );
    }
  }
}
