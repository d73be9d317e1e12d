import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TObject, type TSchema, type Static, Kind } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import YAML from 'yaml';
import { UserError, isErrnoException } from '../util/errors.js';

/**
 * Layered configuration for one part of Kiln (`db`, `manager`, `worker`):
 * the frozen defaults object, then `<home>/<section>.yaml`, then `KILN_<SECTION>_<KEY>`
 * environment variables, then command-line flags. The result is checked against the
 * section's TypeBox schema; a bad value names the key, the reason and where it came from.
 */
export interface LoadConfigOptions {
  home: string;
  /** Values from command-line flags, keyed like the schema (nested objects allowed). */
  flags?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
}

type Source = string;
type Plain = Record<string, unknown>;

export function loadConfig<S extends TObject>(
  section: string,
  schema: S,
  defaults: Static<S>,
  options: LoadConfigOptions,
): Static<S> {
  const sources = new Map<string, Source>();
  const file = join(options.home, `${section}.yaml`);
  const layers: Array<[Source, Plain]> = [
    ['default', defaults as Plain],
    [file, readYamlFile(file)],
    ['environment', readEnvironment(section, schema, options.env ?? process.env)],
    ['command line', coerceTree(schema, options.flags ?? {})],
  ];
  let merged: Plain = {};
  for (const [source, layer] of layers) merged = mergeInto(merged, layer, source, sources, '');

  const error = Value.Errors(schema, merged).First();
  if (error) {
    const path = error.path.replace(/^\//, '').replaceAll('/', '.');
    const key = `${section}${path ? `.${path}` : ''}`;
    const source = sources.get(path) ?? sourceOfUnknownKey(sources, path) ?? 'configuration';
    const got = error.value === undefined ? '' : `, got ${JSON.stringify(error.value)}`;
    throw new UserError(
      `${key}: ${describeExpectation(error.schema, error.message)}${got} (from ${describeSource(source, section, path)})`,
      {
        field: key,
        code: 'invalid_config',
      },
    );
  }
  return Object.freeze(merged) as Static<S>;
}

function readYamlFile(file: string): Plain {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (isErrnoException(error, 'ENOENT')) return {};
    throw new UserError(`cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    const parsed: unknown = YAML.parse(text);
    if (parsed === null || parsed === undefined) return {};
    if (typeof parsed !== 'object' || Array.isArray(parsed))
      throw new Error('the top level must be a mapping of keys to values');
    return parsed as Plain;
  } catch (error) {
    throw new UserError(`${file}: ${(error as Error).message.split('\n')[0]}`, { code: 'invalid_config' });
  }
}

/** KILN_DB_PORT=7533, KILN_MANAGER_SHAMAN_ENABLED=true: one variable per leaf key. */
function readEnvironment(section: string, schema: TObject, env: NodeJS.ProcessEnv): Plain {
  const out: Plain = {};
  const walk = (node: TSchema, path: string[], target: Plain): void => {
    for (const [key, child] of Object.entries((node as TObject).properties ?? {})) {
      const name = ['KILN', section, ...path, key].map(toEnvWord).join('_');
      if (isObjectSchema(child)) {
        const nested: Plain = {};
        walk(child, [...path, key], nested);
        if (Object.keys(nested).length) target[key] = nested;
      } else if (env[name] !== undefined) {
        target[key] = coerceLeaf(child, env[name]);
      }
    }
  };
  walk(schema, [], out);
  return out;
}

const toEnvWord = (word: string): string =>
  word
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]/g, '_')
    .toUpperCase();

function isObjectSchema(schema: TSchema): schema is TObject {
  return schema[Kind] === 'Object';
}

function coerceTree(schema: TObject, values: Plain): Plain {
  const out: Plain = {};
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue;
    const child = schema.properties[key];
    if (child && isObjectSchema(child) && value && typeof value === 'object')
      out[key] = coerceTree(child, value as Plain);
    else out[key] = child && typeof value === 'string' ? coerceLeaf(child, value) : value;
  }
  return out;
}

/** Strings from the environment or flags become the type the schema wants, when they can. */
function coerceLeaf(schema: TSchema, raw: string): unknown {
  const type = schema.type as string | undefined;
  if (type === 'integer' || type === 'number') {
    const number = Number(raw.trim());
    return raw.trim() !== '' && Number.isFinite(number) ? number : raw;
  }
  if (type === 'boolean') {
    const word = raw.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(word)) return true;
    if (['0', 'false', 'no', 'off'].includes(word)) return false;
    return raw;
  }
  if (type === 'array')
    return raw
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean);
  return raw;
}

function mergeInto(base: Plain, layer: Plain, source: Source, sources: Map<string, Source>, prefix: string): Plain {
  const out: Plain = { ...base };
  for (const [key, value] of Object.entries(layer)) {
    const path = prefix ? `${prefix}.${key}` : key;
    const current = out[key];
    if (isPlainObject(value) && isPlainObject(current)) {
      out[key] = mergeInto(current, value, source, sources, path);
    } else {
      out[key] = value;
      sources.set(path, source);
      if (isPlainObject(value)) markAll(value, source, sources, path);
    }
  }
  return out;
}

function markAll(value: Plain, source: Source, sources: Map<string, Source>, prefix: string): void {
  for (const [key, child] of Object.entries(value)) {
    sources.set(`${prefix}.${key}`, source);
    if (isPlainObject(child)) markAll(child, source, sources, `${prefix}.${key}`);
  }
}

const isPlainObject = (value: unknown): value is Plain =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function sourceOfUnknownKey(sources: Map<string, Source>, path: string): Source | undefined {
  for (const [key, source] of sources) if (key.startsWith(`${path}.`) || path.startsWith(`${key}.`)) return source;
  return undefined;
}

function describeSource(source: Source, section: string, path: string): string {
  if (source === 'environment') return ['KILN', section, ...path.split('.')].map(toEnvWord).join('_');
  return source;
}

/** A reason a person can act on: "must be an integer from 1 to 65535", "must be one of trust, cert". */
function describeExpectation(schema: TSchema, fallback: string): string {
  const literals = (schema.anyOf as TSchema[] | undefined)
    ?.map((option) => option.const)
    .filter((value) => value !== undefined);
  if (literals?.length) return `must be one of ${literals.join(', ')}`;
  const type = schema.type as string | undefined;
  const range = (min?: number, max?: number): string =>
    min !== undefined && max !== undefined
      ? ` from ${min} to ${max}`
      : min !== undefined
        ? ` of at least ${min}`
        : max !== undefined
          ? ` of at most ${max}`
          : '';
  if (type === 'integer') return `must be an integer${range(schema.minimum as number, schema.maximum as number)}`;
  if (type === 'number') return `must be a number${range(schema.minimum as number, schema.maximum as number)}`;
  if (type === 'boolean') return 'must be true or false';
  if (type === 'object' && fallback.toLowerCase().includes('unexpected property')) return 'is not a known key';
  if (schema.description && fallback.startsWith('Expected string to match')) return `must be ${schema.description}`;
  return fallback.charAt(0).toLowerCase() + fallback.slice(1);
}
