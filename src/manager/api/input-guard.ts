import { ApiError } from './errors.js';

/** Deeper than any real setting needs; far below what would exhaust the stack. */
export const MAX_JSON_DEPTH = 32;

/**
 * Refuses input PostgreSQL or the validators cannot take, before it reaches them: a NUL
 * character (text and jsonb cannot store U+0000) and JSON nested deeper than MAX_JSON_DEPTH.
 * Walks iteratively so a hostile body cannot overflow the stack here either.
 */
export function checkRequestInput(value: unknown, root: string): void {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value, path: root, depth: 0 }];
  while (stack.length) {
    const { value: current, path, depth } = stack.pop()!;
    if (typeof current === 'string') {
      if (current.includes('\u0000')) throw new ApiError(400, 'invalid_request', `${path} contains a NUL character (\\u0000), which cannot be stored`, path);
      continue;
    }
    // Only parsed JSON and query objects; streamed bodies (uploads) and buffers pass as they are.
    if (!isPlainData(current)) continue;
    if (depth >= MAX_JSON_DEPTH) throw new ApiError(400, 'invalid_request', `${path} is nested deeper than ${MAX_JSON_DEPTH} levels`, path);
    const entries = Array.isArray(current) ? current.map((item, index) => [String(index), item] as const) : Object.entries(current);
    for (const [key, item] of entries) {
      if (key.includes('\u0000')) throw new ApiError(400, 'invalid_request', `${path} has a key with a NUL character (\\u0000)`, path);
      stack.push({ value: item, path: path ? `${path}.${key}` : key, depth: depth + 1 });
    }
  }
}

function isPlainData(value: unknown): value is object {
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return true;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
