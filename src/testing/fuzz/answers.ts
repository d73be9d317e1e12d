import type { FuzzRequest } from './requests.js';

/** What a response must be, whatever the request: no 5xx, and every error in Kiln's shape. Returns what is wrong, if anything. */
function checkAnswer(
  status: number,
  contentType: string | null,
  text: string,
  answers: readonly number[] = [],
): string | undefined {
  if (status >= 500) return `status ${status}`;
  if (status < 400 || answers.includes(status)) return undefined;
  if (!contentType?.startsWith('application/json')) return `error ${status} is ${contentType ?? 'untyped'}, not JSON`;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return `error ${status} body is not JSON`;
  }
  const error = isObject(body) ? body.error : undefined;
  if (!isObject(body) || !isObject(error) || Object.keys(body).length !== 1)
    return `error ${status} is not { error: {...} }`;
  if (typeof error.code !== 'string' || !/^[a-z_]+$/.test(error.code))
    return `error.code ${JSON.stringify(error.code)} is not a Kiln code`;
  if (typeof error.message !== 'string' || error.message === '') return 'error.message is not a string';
  if ('field' in error && typeof error.field !== 'string') return 'error.field is not a string';
  // A refusal of the request's own input must say which part of it is at fault.
  if (
    (error.code === 'invalid_request' || error.code === 'too_large' || error.code === 'malformed_json') &&
    typeof error.field !== 'string'
  ) {
    return `${error.code} without a field`;
  }
  return undefined;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

/** Sends one request; the answer's status and what is wrong with it. */
export async function send(
  base: string,
  request: FuzzRequest,
): Promise<{ status: number; problem: string | undefined }> {
  const response = await fetch(base + request.path, {
    method: request.method,
    headers: request.headers,
    ...(request.body === undefined ? {} : { body: request.body }),
  });
  const text = await response.text();
  return {
    status: response.status,
    problem: checkAnswer(response.status, response.headers.get('content-type'), text, request.answers),
  };
}
