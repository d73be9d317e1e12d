import fc from 'fast-check';
import {
  asText,
  encodeText,
  hostileId,
  hostileValue,
  shaped,
  toJsonText,
  validValue,
  type KnownIds,
  type Schema,
} from './values.js';

/**
 * Requests for every route of the manager's OpenAPI document: valid ones, near-valid ones (one
 * field changed) and hostile ones. Used by the property-based API test and `npm run bench -- fuzz`.
 */

export interface FuzzRequest {
  method: string;
  /** Path under the server root, query string included, already encoded. */
  path: string;
  /** Raw request body text (so that it can hold what JSON.stringify would never write). */
  body?: string;
  headers: Record<string, string>;
  /** The route as the document names it, for per-route figures. */
  route: string;
  /** Statuses of 400 and above the document gives an answer other than an error (423 of the long poll). */
  answers: number[];
}

/** Routes that stream or wait by design; their input checks are covered elsewhere. */
const SKIPPED = new Set(['get /api/v1/events']);

/** Seeds that get a submission far into the job service (then changed like any valid value). */
const SUBMISSIONS = [
  { name: 'fuzz', type: 'echo-sleep', settings: {} },
  { name: 'fuzz', type: 'echo-sleep', settings: {}, priority: 60, metadata: { shot: 'sh010' }, tag: 'gpu' },
  { name: 'fuzz', type: 'command', settings: { argv: ['echo', '{frame}'] }, frames: '1-4, 9', chunkSize: 2 },
];

interface Parameter {
  in: string;
  name: string;
  schema: Schema;
  required?: boolean;
}

/** Path parameters: mostly valid values, sometimes hostile ids; each already encoded. */
const pathArbitrary = (params: Parameter[], known: KnownIds): fc.Arbitrary<string[]> =>
  fc.tuple(
    ...params.map((p) =>
      fc.oneof(
        { weight: 4, arbitrary: validValue(p.schema, known, p.name).map((v) => encodeText(asText(v))) },
        { weight: 1, arbitrary: hostileId },
      ),
    ),
  );

/** Query parameters, each present or not, valid or hostile, as `name=value`. */
const queryArbitrary = (params: Parameter[], known: KnownIds): fc.Arbitrary<Array<string | undefined>> =>
  fc.tuple(
    ...params.map((p) =>
      fc.option(
        fc
          .oneof({ weight: 3, arbitrary: validValue(p.schema, known, p.name) }, { weight: 2, arbitrary: hostileValue })
          .map((v) => `${p.name}=${encodeText(asText(v))}`),
        { nil: undefined },
      ),
    ),
  );

/** Bodies shaped by the schema (seeded for submissions), and now and then broken JSON. */
function bodyArbitrary(
  bodySchema: Schema | undefined,
  known: KnownIds,
  seeded: boolean,
): fc.Arbitrary<string | undefined> {
  if (!bodySchema) return fc.option(hostileValue.map(toJsonText), { nil: undefined, freq: 6 });
  const valid = seeded
    ? fc.oneof(fc.constantFrom(...SUBMISSIONS), validValue(bodySchema, known))
    : validValue(bodySchema, known);
  const broken = fc.constantFrom('{"a":', '', 'null', '[]', '"x"', `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`);
  return fc.oneof({ weight: 12, arbitrary: shaped(valid).map(toJsonText) }, { weight: 1, arbitrary: broken });
}

/** Worker credentials for worker routes: real ones mostly, else garbage in Basic form. */
function authArbitrary(template: string, known: KnownIds): fc.Arbitrary<string> {
  if (!template.includes('/worker/') || template.endsWith('/register')) return fc.constant('');
  const basic = (text: string): string => `Basic ${Buffer.from(text).toString('base64')}`;
  return fc.oneof(
    { weight: 4, arbitrary: known.workerAuth.length ? fc.constantFrom(...known.workerAuth) : fc.constant('') },
    {
      weight: 1,
      arbitrary: fc.uint8Array({ maxLength: 60 }).map((bytes) => `Basic ${Buffer.from(bytes).toString('base64')}`),
    },
    { weight: 1, arbitrary: hostileValue.map((v) => basic(`${asText(v)}:${asText(v)}`)) },
  );
}

/** Statuses of 400 and above the document answers with something other than an error. */
const nonErrorAnswers = (operation: Schema): number[] =>
  Object.entries((operation.responses ?? {}) as Record<string, Schema>)
    .filter(
      ([status, response]) =>
        Number(status) >= 400 && !response.content?.['application/json']?.schema?.properties?.error,
    )
    .map(([status]) => Number(status));

/** One route's arbitrary request. */
function routeArbitrary(
  template: string,
  method: string,
  operation: Schema,
  known: KnownIds,
): fc.Arbitrary<FuzzRequest> {
  const route = `${method} ${template}`;
  const parameters = (operation.parameters ?? []) as Parameter[];
  const bodySchema = operation.requestBody?.content?.['application/json']?.schema as Schema | undefined;
  const seeded = template.endsWith('/jobs') || template.endsWith('/jobs/check');
  const answers = nonErrorAnswers(operation);
  return fc
    .record({
      params: pathArbitrary(
        parameters.filter((p) => p.in === 'path'),
        known,
      ),
      query: queryArbitrary(
        parameters.filter((p) => p.in === 'query'),
        known,
      ),
      body: bodyArbitrary(bodySchema, known, seeded),
      auth: authArbitrary(template, known),
    })
    .map(({ params, query, body: text, auth }) => {
      let index = 0;
      let path = template.replace(/\{[^}]+\}/g, () => params[index++] as string);
      // The worker's long poll must not wait: the fuzzer asks for no waiting at all.
      const asked =
        route === 'post /api/v1/worker/task' ? query.map((q) => (q?.startsWith('waitMs=') ? 'waitMs=0' : q)) : query;
      const search = asked.filter((q): q is string => q !== undefined).join('&');
      if (search) path += `?${search}`;
      // fetch sends no body with GET; the router sees it as an ordinary GET.
      const body = method === 'get' ? undefined : text;
      const headers: Record<string, string> = {};
      if (body !== undefined) headers['content-type'] = 'application/json';
      if (auth) headers.authorization = auth;
      return { method: method.toUpperCase(), path, ...(body === undefined ? {} : { body }), headers, route, answers };
    });
}

/** One arbitrary request per route of the document; `fc.oneof` of them covers the API. */
export function requestArbitraries(openapi: Schema, known: KnownIds): Array<fc.Arbitrary<FuzzRequest>> {
  const out: Array<fc.Arbitrary<FuzzRequest>> = [];
  for (const [template, methods] of Object.entries(openapi.paths as Record<string, Record<string, Schema>>)) {
    for (const [method, operation] of Object.entries(methods)) {
      if (!SKIPPED.has(`${method} ${template}`)) out.push(routeArbitrary(template, method, operation, known));
    }
  }
  return out;
}
