import { AjvCompiler } from '@fastify/ajv-compiler';

/** Fastify's validator factory signature (the part of it Kiln uses). */
type RouteSchema = { schema: Record<string, unknown>; method: string; url: string; httpPart?: string };
type Validate = ((data: unknown) => boolean | Promise<unknown>) & { errors?: unknown[] | null };
type BuildValidator = (
  externalSchemas: unknown,
  options: { customOptions?: Record<string, unknown> },
) => (route: RouteSchema) => Validate;

/** Decimal digits only: `0x10`, `1e3`, ` 5` and `5.0` are not numbers a query string should mean. */
const INTEGER_TEXT = /^-?\d{1,16}$/;
const NUMBER_TEXT = /^-?\d{1,16}(\.\d{1,16})?$/;

/**
 * Request validators, one per part of the request:
 * - bodies are JSON and carry their own types, so nothing is coerced (`"name": 5`,
 *   `"priority": true`, `"tags": "x"` are refused, not turned into what the schema wants);
 * - query strings and path parameters are text, so numbers are read from it, but only from
 *   plain decimal text, and the schema's bounds still apply after that.
 */
export const buildValidator: BuildValidator = (externalSchemas, options) => {
  const pool = AjvCompiler();
  const base = { ...options.customOptions, removeAdditional: false, useDefaults: true };
  const forBodies = pool(externalSchemas as never, { customOptions: { ...base, coerceTypes: false } });
  const forText = pool(externalSchemas as never, { customOptions: { ...base, coerceTypes: true } });
  return (route) => {
    if (route.httpPart === 'body') return forBodies(route as never) as Validate;
    const validate = forText(route as never) as Validate;
    const numeric = numericProperties(route.schema);
    if (numeric.size === 0) return validate;
    const checked: Validate = (data) => {
      const wrong = firstNonDecimal(data, numeric);
      if (wrong) {
        const digits = /^-?\d+$/.test(String((data as Record<string, unknown>)[wrong]));
        const message = digits ? 'is out of range' : `must be ${numeric.get(wrong)} written in decimal digits`;
        checked.errors = [{ instancePath: `/${wrong}`, keyword: 'type', params: {}, message }];
        return false;
      }
      const ok = validate(data);
      checked.errors = validate.errors ?? null;
      return ok;
    };
    return checked;
  };
};

/** Top-level properties of a query or params schema that hold numbers: name → "an integer" / "a number". */
function numericProperties(schema: Record<string, unknown>): Map<string, string> {
  const out = new Map<string, string>();
  const properties = (schema.properties ?? {}) as Record<string, { type?: unknown }>;
  for (const [name, property] of Object.entries(properties)) {
    if (property.type === 'integer') out.set(name, 'an integer');
    else if (property.type === 'number') out.set(name, 'a number');
  }
  return out;
}

function firstNonDecimal(data: unknown, numeric: Map<string, string>): string | undefined {
  if (data === null || typeof data !== 'object') return undefined;
  for (const [name, kind] of numeric) {
    const value = (data as Record<string, unknown>)[name];
    if (value === undefined) continue;
    const text = Array.isArray(value) ? undefined : typeof value === 'string' ? value : String(value);
    if (text === undefined || !(kind === 'an integer' ? INTEGER_TEXT : NUMBER_TEXT).test(text)) return name;
  }
  return undefined;
}
