/**
 * What a job type's settings mean, read from its settings schema (the one source of truth):
 * type, default, whether required, allowed values and range, description, and two Kiln
 * keywords a property schema may carry:
 *
 * - `appliesWhen: { renderer: ['blender'] }`: the setting only means something when every named
 *   setting has one of the listed values (after defaults). Given otherwise, the submission is
 *   refused; its default is then left out of the job's settings.
 * - `requiredWhen: { renderer: ['blender'] }`: the setting must be given when the condition holds.
 *
 * Both are plain JSON in the schema, so they are part of the type's etag and of what
 * `GET /api/v1/job-types/:name` returns, and job types loaded from `job_types_dir` can use them.
 */
import { Type, type Static, type TObject, type TSchema } from '@sinclair/typebox';

const ConditionValue = Type.Union([Type.String(), Type.Number(), Type.Boolean()]);
export type ConditionValue = Static<typeof ConditionValue>;

/** Setting name → the values it must have for the condition to hold (every name must match). */
export const SettingCondition = Type.Record(Type.String(), Type.Array(ConditionValue));
export type SettingCondition = Record<string, ConditionValue[]>;

/** One setting of a job type, as `kiln job-types show` and the API describe it. */
export const SettingInfo = Type.Object({
  name: Type.String(),
  type: Type.String({
    description: "'string', 'integer', 'number', 'boolean', 'array', 'object', 'any', or several joined by ' or '",
  }),
  items: Type.Optional(
    Type.String({ description: 'type of the elements of an array, or of the values of an object used as a map' }),
  ),
  description: Type.String(),
  required: Type.Boolean({ description: 'must always be given (it has no default)' }),
  requiredWhen: Type.Optional(SettingCondition),
  appliesWhen: Type.Optional(SettingCondition),
  default: Type.Optional(Type.Unknown()),
  allowed: Type.Optional(Type.Array(ConditionValue, { description: 'the only values accepted' })),
  minimum: Type.Optional(Type.Number()),
  maximum: Type.Optional(Type.Number()),
  exclusiveMinimum: Type.Optional(Type.Number()),
  exclusiveMaximum: Type.Optional(Type.Number()),
  multipleOf: Type.Optional(Type.Number()),
  minLength: Type.Optional(Type.Integer()),
  maxLength: Type.Optional(Type.Integer()),
  pattern: Type.Optional(Type.String()),
  minItems: Type.Optional(Type.Integer()),
  maxItems: Type.Optional(Type.Integer()),
});
export type SettingInfo = Static<typeof SettingInfo>;

const CONDITION_KEYWORDS = ['appliesWhen', 'requiredWhen'] as const;
const LIMITS = [
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
] as const;

const conditionOf = (schema: TSchema, keyword: (typeof CONDITION_KEYWORDS)[number]): SettingCondition | undefined =>
  schema[keyword] as SettingCondition | undefined;

export const appliesWhenOf = (schema: TSchema): SettingCondition | undefined => conditionOf(schema, 'appliesWhen');
export const requiredWhenOf = (schema: TSchema): SettingCondition | undefined => conditionOf(schema, 'requiredWhen');

/**
 * Why the schema's `appliesWhen` / `requiredWhen` are malformed, or undefined when they are fine.
 * Checked when a type is registered: a condition naming a setting that does not exist would
 * otherwise refuse that setting on every submission.
 */
export function conditionProblem(schema: TObject): string | undefined {
  for (const [name, property] of Object.entries(schema.properties)) {
    for (const keyword of CONDITION_KEYWORDS) {
      const condition = property[keyword] as unknown;
      if (condition === undefined) continue;
      const where = `settingsSchema.properties.${name}.${keyword}`;
      if (typeof condition !== 'object' || condition === null || Array.isArray(condition))
        return `${where} must be an object of setting names to lists of values`;
      for (const [key, values] of Object.entries(condition)) {
        if (!(key in schema.properties)) return `${where} names "${key}", which is not a setting`;
        if (key === name) return `${where} cannot depend on the setting itself`;
        if (
          !Array.isArray(values) ||
          values.length === 0 ||
          !values.every((value) => ['string', 'number', 'boolean'].includes(typeof value))
        ) {
          return `${where}.${key} must be a non-empty list of strings, numbers or booleans`;
        }
      }
    }
  }
  return undefined;
}

/** True when every setting the condition names has one of its values in `settings`. */
export function conditionHolds(condition: SettingCondition, settings: Record<string, unknown>): boolean {
  return Object.entries(condition).every(([key, values]) => values.includes(settings[key] as ConditionValue));
}

/**
 * True unless `chosen` contradicts the condition: settings the condition names but `chosen`
 * leaves open count as matching. This is "could apply", for listing the settings of a choice
 * such as `--renderer blender`.
 */
export function conditionAllows(condition: SettingCondition | undefined, chosen: Record<string, unknown>): boolean {
  if (!condition) return true;
  return Object.entries(condition).every(
    ([key, values]) => !(key in chosen) || values.includes(chosen[key] as ConditionValue),
  );
}

/** `renderer is blender`, `videoCodec is h264 or h265 and audioCodec is aac`; `prefix` goes before each name. */
export function describeCondition(condition: SettingCondition, prefix = ''): string {
  return Object.entries(condition)
    .map(([key, values]) => `${prefix}${key} is ${values.map(String).join(' or ')}`)
    .join(' and ');
}

/** Every setting of the schema, in the schema's order. */
export function describeSettings(schema: TObject): SettingInfo[] {
  const required = new Set(schema.required ?? []);
  // A required property with a default need not be given: the default fills it in.
  return Object.entries(schema.properties).map(([name, property]) =>
    describeSetting(name, property, required.has(name) && property.default === undefined),
  );
}

function describeSetting(name: string, schema: TSchema, required: boolean): SettingInfo {
  const { type, items, allowed } = typeOf(schema);
  const info: SettingInfo = {
    name,
    type,
    description: typeof schema.description === 'string' ? schema.description : '',
    required,
  };
  if (items !== undefined) info.items = items;
  const requiredWhen = requiredWhenOf(schema);
  const appliesWhen = appliesWhenOf(schema);
  if (requiredWhen) info.requiredWhen = requiredWhen;
  if (appliesWhen) info.appliesWhen = appliesWhen;
  if (schema.default !== undefined) info.default = schema.default;
  if (allowed) info.allowed = allowed;
  for (const limit of LIMITS) {
    if (schema[limit] !== undefined) (info as Record<string, unknown>)[limit] = schema[limit];
  }
  return info;
}

/**
 * The JSON type of a schema, read from standard JSON Schema keywords rather than TypeBox's
 * Kind, so hand-written schemas of `job_types_dir` modules read the same.
 */
function typeOf(schema: TSchema): { type: string; items?: string; allowed?: ConditionValue[] } {
  if (isConstant(schema.const)) return { type: typeof schema.const, allowed: [schema.const] };
  if (Array.isArray(schema.enum) && schema.enum.every(isConstant)) {
    return {
      type: joinTypes(schema.enum.map((value: ConditionValue) => typeof value)),
      allowed: schema.enum as ConditionValue[],
    };
  }
  const options = (schema.anyOf ?? schema.oneOf) as TSchema[] | undefined;
  if (Array.isArray(options)) {
    const parts = options.map(typeOf);
    const allowed = parts.every((part) => part.allowed) ? parts.flatMap((part) => part.allowed ?? []) : undefined;
    return { type: joinTypes(parts.map((part) => part.type)), ...(allowed ? { allowed } : {}) };
  }
  if (schema.type === 'array') {
    const items = schema.items as TSchema | undefined;
    return { type: 'array', ...(items && !Array.isArray(items) ? { items: typeOf(items).type } : {}) };
  }
  if (schema.type === 'object') {
    const values = Object.values((schema.patternProperties ?? {}) as Record<string, TSchema>);
    const additional = schema.additionalProperties as TSchema | boolean | undefined;
    const valueSchema = values[0] ?? (typeof additional === 'object' ? additional : undefined);
    return { type: 'object', ...(valueSchema ? { items: typeOf(valueSchema).type } : {}) };
  }
  if (typeof schema.type === 'string') return { type: schema.type };
  if (Array.isArray(schema.type)) return { type: joinTypes(schema.type as string[]) };
  return { type: 'any' };
}

const isConstant = (value: unknown): value is ConditionValue => ['string', 'number', 'boolean'].includes(typeof value);
const joinTypes = (types: string[]): string => [...new Set(types)].join(' or ');
