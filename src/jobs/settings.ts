import { Kind, type TObject, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import { UserError } from '../util/errors.js';
import { appliesWhenOf, conditionHolds, describeCondition, requiredWhenOf } from './setting-info.js';
import type { JobType } from './types.js';

export type SettingsResult = { ok: true; settings: Record<string, unknown> } | { ok: false; error: UserError };

/**
 * Checks a submission's settings against a job type: unknown keys are refused, defaults are
 * applied (on a copy; the input is not changed), then the schema and the type's own
 * `checkSettings` rules run. A failure is a UserError whose field names the setting
 * (`settings.width`) and whose message says why ("must be an integer", "is required").
 */
export function validateSettings(
  jobType: Pick<JobType, 'name' | 'settingsSchema' | 'checkSettings'>,
  settings: unknown,
): SettingsResult {
  try {
    return { ok: true, settings: parseSettings(jobType, settings) };
  } catch (error) {
    if (error instanceof UserError) return { ok: false, error };
    throw error;
  }
}

/** As validateSettings, but throws the UserError. */
export function parseSettings(
  jobType: Pick<JobType, 'name' | 'settingsSchema' | 'checkSettings'>,
  settings: unknown,
): Record<string, unknown> {
  const schema = jobType.settingsSchema;
  const given = settings ?? {};
  if (typeof given !== 'object' || Array.isArray(given)) {
    throw settingsError('settings', 'settings must be an object of setting names to values');
  }
  const known = new Set(Object.keys(schema.properties));
  for (const key of Object.keys(given)) {
    if (!known.has(key)) {
      const list = [...known].join(', ') || 'none';
      throw settingsError(
        `settings.${key}`,
        `settings.${key} is not a setting of ${jobType.name} jobs (known: ${list})`,
      );
    }
  }

  const value = Value.Default(schema, structuredClone(given)) as Record<string, unknown>;
  const error = Value.Errors(schema, value).First();
  if (error) {
    const field = fieldOf(error.path);
    const got =
      error.value === undefined || error.type === ValueErrorType.ObjectRequiredProperty
        ? ''
        : `, got ${preview(error.value)}`;
    throw settingsError(field, `${field} ${describeError(error)}${got}`);
  }
  applyConditions(schema, given as Record<string, unknown>, value);
  jobType.checkSettings?.(value);
  return value;
}

/**
 * The schema's `appliesWhen` and `requiredWhen` (see setting-info.ts), on the settings with
 * defaults applied. A setting given where it does not apply is refused rather than ignored: the
 * submitter believes it changes the result (a width for a Blender render, a .blend file for the
 * built-in renderer) and it would not. A default that does not apply is removed from `value`,
 * so the stored job does not show it as if it had been used.
 */
function applyConditions(schema: TObject, given: Record<string, unknown>, value: Record<string, unknown>): void {
  for (const [key, property] of Object.entries(schema.properties)) {
    const appliesWhen = appliesWhenOf(property);
    if (!appliesWhen || conditionHolds(appliesWhen, value)) continue;
    if (key in given) {
      const actual = Object.keys(appliesWhen)
        .map(
          (name) =>
            `settings.${name} is ${value[name] === undefined ? 'not set' : String(value[name])}${name in given ? '' : ' (the default)'}`,
        )
        .join(' and ');
      throw settingsError(
        `settings.${key}`,
        `settings.${key} does not apply when ${actual}; it applies only when ${describeCondition(appliesWhen, 'settings.')}`,
      );
    }
    delete value[key];
  }
  for (const [key, property] of Object.entries(schema.properties)) {
    const requiredWhen = requiredWhenOf(property);
    if (requiredWhen && value[key] === undefined && conditionHolds(requiredWhen, value)) {
      throw settingsError(
        `settings.${key}`,
        `settings.${key} is required when ${describeCondition(requiredWhen, 'settings.')}`,
      );
    }
  }
}

export function settingsError(field: string, message: string): UserError {
  return new UserError(message, { field, code: 'invalid_settings' });
}

const fieldOf = (path: string): string =>
  ['settings', ...path.split('/').filter(Boolean).map(unescapePointer)].join('.');
const unescapePointer = (part: string): string => part.replaceAll('~1', '/').replaceAll('~0', '~');

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** A reason a person can act on, from a TypeBox error. */
function describeError(error: ValueError): string {
  const schema = error.schema;
  const range = rangeOf(schema);
  switch (error.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return 'is required';
    case ValueErrorType.ObjectAdditionalProperties:
      return 'is not a known setting';
    case ValueErrorType.Integer:
    case ValueErrorType.IntegerMinimum:
    case ValueErrorType.IntegerMaximum:
    case ValueErrorType.IntegerExclusiveMinimum:
    case ValueErrorType.IntegerExclusiveMaximum:
      return `must be an integer${range}`;
    case ValueErrorType.IntegerMultipleOf:
    case ValueErrorType.NumberMultipleOf:
      return schema.multipleOf === 2 ? 'must be an even number' : `must be a multiple of ${schema.multipleOf}`;
    case ValueErrorType.Number:
    case ValueErrorType.NumberMinimum:
    case ValueErrorType.NumberMaximum:
    case ValueErrorType.NumberExclusiveMinimum:
    case ValueErrorType.NumberExclusiveMaximum:
      return `must be a number${range}`;
    case ValueErrorType.Boolean:
      return 'must be true or false';
    case ValueErrorType.String:
      return 'must be text';
    case ValueErrorType.StringMinLength:
      return schema.minLength === 1 ? 'must not be empty' : `must be at least ${schema.minLength} characters`;
    case ValueErrorType.StringMaxLength:
      return `must be at most ${schema.maxLength} characters`;
    case ValueErrorType.StringPattern:
      return schema.description ? `must be ${schema.description}` : `must match ${schema.pattern}`;
    case ValueErrorType.Array:
      return 'must be a list';
    case ValueErrorType.ArrayMinItems:
      return schema.minItems === 1 ? 'must not be empty' : `must have at least ${schema.minItems} items`;
    case ValueErrorType.ArrayMaxItems:
      return `must have at most ${schema.maxItems} items`;
    case ValueErrorType.Object:
      return 'must be an object';
    case ValueErrorType.Union: {
      const literals = literalsOf(schema);
      if (literals) return `must be one of ${literals.join(', ')}`;
      break;
    }
    case ValueErrorType.Literal:
      return `must be ${JSON.stringify(schema.const)}`;
  }
  return error.message.charAt(0).toLowerCase() + error.message.slice(1);
}

function rangeOf(schema: TSchema): string {
  const min = (schema.minimum ?? schema.exclusiveMinimum) as number | undefined;
  const max = (schema.maximum ?? schema.exclusiveMaximum) as number | undefined;
  const above = schema.exclusiveMinimum !== undefined ? `greater than ${min}` : `at least ${min}`;
  if (
    min !== undefined &&
    max !== undefined &&
    schema.exclusiveMinimum === undefined &&
    schema.exclusiveMaximum === undefined
  ) {
    return ` from ${min} to ${max}`;
  }
  if (min !== undefined && max !== undefined)
    return ` ${above} and ${schema.exclusiveMaximum !== undefined ? 'below' : 'at most'} ${max}`;
  if (min !== undefined) return ` ${above}`;
  if (max !== undefined) return ` ${schema.exclusiveMaximum !== undefined ? 'below' : 'at most'} ${max}`;
  return '';
}

function literalsOf(schema: TSchema): string[] | undefined {
  const options = schema.anyOf as TSchema[] | undefined;
  if (!options?.length || !options.every((option) => option[Kind] === 'Literal')) return undefined;
  return options.map((option) => String(option.const));
}

/** True when `schema` is a TypeBox object schema (from any copy of TypeBox 0.3x). */
export function isObjectSchema(schema: unknown): schema is TObject {
  return (
    typeof schema === 'object' &&
    schema !== null &&
    (schema as TSchema)[Kind] === 'Object' &&
    typeof (schema as TObject).properties === 'object' &&
    (schema as TObject).properties !== null
  );
}
