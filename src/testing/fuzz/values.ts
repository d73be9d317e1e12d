import fc from 'fast-check';

/**
 * Values for the API fuzzer: valid for a schema as the OpenAPI document states it, near-valid
 * (one thing changed) and hostile (wrong types, huge numbers, NaN text, lone surrogates, NUL,
 * deep nesting, huge strings, bad ids).
 */

// biome-ignore lint/suspicious/noExplicitAny: OpenAPI schemas are walked as untyped JSON.
export type Schema = Record<string, any>;

/** Ids the requests may use so that valid requests get past "no such job". */
export interface KnownIds {
  jobs: string[];
  tasks: string[];
  workers: string[];
  /** `Authorization` headers of registered workers. */
  workerAuth: string[];
  /** The farm secret, so some registrations are valid. */
  farmSecret: string;
}

/** Values no field of any route should get past the manager with a 5xx. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    null,
    true,
    false,
    0,
    -1,
    1.5,
    -0.0,
    2 ** 31,
    2 ** 53 + 2,
    1e308,
    -1e308,
    'NaN',
    'Infinity',
    '-1',
    '1e400',
    '0x10',
    '',
    '\u0000',
    'a\u0000b',
    '\ud800',
    'x\udc00y',
    '\ud83d',
    '../../etc/passwd',
    '/etc/passwd',
    '\\\\server\\share',
    '{farm}/../x',
    [],
    [[]],
    {},
    { a: 1 },
    ['pause'],
    'not-a-uuid',
    '00000000-0000-0000-0000-000000000000',
    '1,,2',
    '1 2',
    '1-10\n',
    'ü€𝄞',
  ),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.integer(),
  fc.double(),
  fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map((n) => ({ raw: n.toString() })),
  fc.constantFrom(70_000, 300_000, 1_100_000, 5_000).map((length) => 'x'.repeat(length)),
  fc.integer({ min: 20, max: 60 }).map((depth) => ({ raw: `${'['.repeat(depth)}1${']'.repeat(depth)}` })),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
);

/** A raw JSON fragment: lets a value be a number JSON.stringify cannot write (1e400, 30 digits). */
interface Raw {
  raw: string;
}
const isRaw = (value: unknown): value is Raw =>
  typeof value === 'object' &&
  value !== null &&
  !Array.isArray(value) &&
  Object.keys(value).length === 1 &&
  typeof (value as Raw).raw === 'string';

/** JSON text for a value that may hold raw fragments. */
export function toJsonText(value: unknown): string {
  if (isRaw(value)) return value.raw;
  if (Array.isArray(value)) return `[${value.map(toJsonText).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([key, item]) => `${JSON.stringify(key)}:${toJsonText(item === undefined ? null : item)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Query and path text for a value: raw fragments as they are, everything else as text. */
export const asText = (value: unknown): string =>
  isRaw(value) ? value.raw : typeof value === 'string' ? value : (JSON.stringify(value) ?? '');

/** Encodes text for a URL, keeping lone surrogates and NUL as the escapes a hostile client would send. */
export function encodeText(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (code >= 0xd800 && code <= 0xdfff)
      out += `%${[0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)].map((b) => b.toString(16).toUpperCase()).join('%')}`;
    else out += encodeURIComponent(char);
  }
  return out;
}

/** An arbitrary of values valid for a schema (as the document states it). */
export function validValue(schema: Schema | undefined, known: KnownIds, name = ''): fc.Arbitrary<unknown> {
  if (!schema || Object.keys(schema).length === 0) return fc.jsonValue({ maxDepth: 2 });
  if (schema.enum) return fc.constantFrom(...(schema.enum as unknown[]));
  if (schema.const !== undefined) return fc.constant(schema.const);
  const union = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  if (union) return fc.oneof(...union.map((option) => validValue(option, known, name)));
  switch (schema.type) {
    case 'string':
      return validString(schema, known, name);
    case 'integer': {
      const min = Math.max(schema.minimum ?? -1000, -(2 ** 31));
      const max = Math.min(schema.maximum ?? 1000, 2 ** 31);
      return fc.oneof(fc.constantFrom(min, max), fc.integer({ min, max }));
    }
    case 'number':
      return fc.double({
        min: schema.exclusiveMinimum ?? schema.minimum ?? -1000,
        max: schema.maximum ?? 1000,
        noNaN: true,
        minExcluded: schema.exclusiveMinimum !== undefined,
      });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(validValue(schema.items, known, name), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.min(schema.maxItems ?? 4, 4),
      });
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, Schema>;
      const required = new Set<string>(schema.required ?? []);
      if (Object.keys(properties).length === 0) {
        return fc.dictionary(
          fc.string({ minLength: 1, maxLength: 8 }),
          schema.additionalProperties && typeof schema.additionalProperties === 'object'
            ? validValue(schema.additionalProperties, known)
            : fc.jsonValue({ maxDepth: 2 }),
          { maxKeys: 3 },
        );
      }
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [key, property] of Object.entries(properties)) record[key] = validValue(property, known, key);
      return fc.record(record, { requiredKeys: [...required] });
    }
    default:
      return fc.jsonValue({ maxDepth: 1 });
  }
}

function validString(schema: Schema, known: KnownIds, name: string): fc.Arbitrary<string> {
  if (schema.format === 'uuid') {
    const ids = [...known.jobs, ...known.tasks, ...known.workers];
    return ids.length ? fc.oneof(fc.constantFrom(...ids), fc.uuid()) : fc.uuid();
  }
  if (schema.pattern === '^([01]\\d|2[0-3]):[0-5]\\d$') {
    return fc
      .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
      .map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
  }
  if (name === 'secret') return fc.constantFrom(known.farmSecret, 'wrong');
  if (name === 'type') return fc.constantFrom('echo-sleep', 'command', 'render', 'nope');
  if (name === 'frames') return fc.constantFrom('1-10', '1..4', '1-4, 9', '7', '1,,2', '3-1');
  if (name === 'sha256') return fc.stringMatching(/^[0-9a-f]{64}$/);
  const minLength = schema.minLength ?? 0;
  const maxLength = Math.min(schema.maxLength ?? 30, 30);
  return fc.string({ minLength, maxLength: Math.max(minLength, maxLength) });
}

/** The same value with one thing wrong: a field replaced by a hostile value, a field missing, or one too many. */
function nearValid(value: unknown): fc.Arbitrary<unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return hostileValue;
  const keys = Object.keys(value);
  const options: Array<fc.Arbitrary<unknown>> = [
    fc
      .tuple(fc.string({ minLength: 1, maxLength: 12 }), hostileValue)
      .map(([key, extra]) => ({ ...value, [key]: extra })),
  ];
  if (keys.length) {
    options.push(fc.tuple(fc.constantFrom(...keys), hostileValue).map(([key, bad]) => ({ ...value, [key]: bad })));
    options.push(
      fc.constantFrom(...keys).map((key) => Object.fromEntries(Object.entries(value).filter(([k]) => k !== key))),
    );
    options.push(
      fc.tuple(fc.constantFrom(...keys), hostileValue).chain(([key, bad]) => {
        const inner = (value as Record<string, unknown>)[key];
        return inner && typeof inner === 'object' && !Array.isArray(inner)
          ? nearValid(inner).map((changed) => ({ ...value, [key]: changed }))
          : fc.constant({ ...value, [key]: bad });
      }),
    );
  }
  return fc.oneof(...options);
}

/** valid (about a third), near-valid (about half) or wholly hostile. */
export const shaped = (valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> =>
  fc.oneof(
    { weight: 3, arbitrary: valid },
    { weight: 5, arbitrary: valid.chain(nearValid) },
    { weight: 1, arbitrary: hostileValue },
  );

export const hostileId = fc.oneof(
  hostileValue.map(asText),
  fc.constantFrom(
    '%00',
    '%ED%A0%80',
    '%zz',
    '%',
    'a'.repeat(600),
    '..',
    '%2e%2e',
    '00000000-0000-4000-8000-000000000000',
  ),
);
