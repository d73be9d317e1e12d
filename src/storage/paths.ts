import { Type, type Static } from '@sinclair/typebox';
import { UserError } from '../util/errors.js';
import { PlatformSchema, type Platform } from '../util/platform.js';

/**
 * Two-way path variables: one name (`farm`) with a prefix per platform and audience
 * (`/mnt/farm`, `/Volumes/farm`, `S:\`). Paths are stored with the variable (`{farm}/proj/a.blend`)
 * and expanded to each reader's own platform form when handed out.
 */

export { platformOf, type Platform } from '../util/platform.js';
const AudienceSchema = Type.Union([Type.Literal('workers'), Type.Literal('users')]);
export type Audience = Static<typeof AudienceSchema>;

const VariableValueSchema = Type.Object(
  {
    platform: Type.Union([PlatformSchema, Type.Literal('all')]),
    audience: Type.Union([AudienceSchema, Type.Literal('all')]),
    value: Type.String({ minLength: 1 }),
  },
  { additionalProperties: false },
);
type VariableValue = Static<typeof VariableValueSchema>;

export const TwoWayVariableSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_-]*$', description: 'a name of letters, digits, _ and -' }),
    values: Type.Array(VariableValueSchema, { minItems: 1 }),
  },
  { additionalProperties: false },
);
export type TwoWayVariable = Static<typeof TwoWayVariableSchema>;

/**
 * Replaces the longest matching variable prefix of `path` with `{name}`.
 * Windows paths match regardless of case and of `\` versus `/`. The stored form always uses `/`.
 * `audience` limits the values considered; by default any audience's value may match.
 * A path under no variable comes back unchanged apart from its separators.
 */
export function toStoredPath(
  path: string,
  platform: Platform,
  variables: readonly TwoWayVariable[],
  audience?: Audience,
): string {
  const subject = toSlashes(path, platform);
  let best: { name: string; length: number } | undefined;
  for (const variable of variables) {
    for (const entry of variable.values) {
      if (entry.platform !== 'all' && entry.platform !== platform) continue;
      if (audience && entry.audience !== 'all' && entry.audience !== audience) continue;
      const prefix = trimTrailingSlashes(toSlashes(entry.value, platform));
      if (best && prefix.length <= best.length) continue;
      if (startsWithPrefix(subject, prefix, platform)) best = { name: variable.name, length: prefix.length };
    }
  }
  if (!best) return subject;
  const rest = subject.slice(best.length).replace(/\/{2,}/g, '/');
  return `{${best.name}}${rest}`;
}

/**
 * Expands every `{name}` of a known variable to the value for `platform` and `audience`
 * (a value for the exact platform beats one for `all`; then the exact audience beats `all`).
 * Unknown names, and variables with no value for this platform and audience, are left as they are.
 * For windows the result uses `\` throughout.
 */
export function toPlatformPath(
  stored: string,
  platform: Platform,
  audience: Audience,
  variables: readonly TwoWayVariable[],
): string {
  const byName = new Map(variables.map((variable) => [variable.name, variable]));
  const expanded = stored.replace(/\{([A-Za-z_][A-Za-z0-9_-]*)\}/g, (whole: string, name: string, offset: number) => {
    const variable = byName.get(name);
    const value = variable && pickValue(variable, platform, audience);
    if (value === undefined) return whole;
    // `{farm}` alone keeps the value as written (`S:\` must not become `S:`); before `/rest` the
    // value loses its trailing separators so that `S:\` + `/proj` is `S:\proj`.
    if (offset + whole.length === stored.length) return value;
    return trimTrailingSlashes(toSlashes(value, platform));
  });
  return platform === 'windows' ? expanded.replaceAll('/', '\\') : expanded;
}

/** The value a variable has for one platform and audience, most specific first. */
function pickValue(variable: TwoWayVariable, platform: Platform, audience: Audience): string | undefined {
  const rank = (entry: VariableValue): number =>
    (entry.platform === platform ? 0 : entry.platform === 'all' ? 2 : 9) +
    (entry.audience === audience ? 0 : entry.audience === 'all' ? 1 : 9);
  let best: VariableValue | undefined;
  for (const entry of variable.values) {
    if (rank(entry) < 9 && (!best || rank(entry) < rank(best))) best = entry;
  }
  return best?.value;
}

/**
 * Checks a set of variables as configured: unique names, and no UNC windows values.
 * Throws a UserError naming the offending entry (`variables[0].values[1].value`).
 */
export function checkVariables(variables: readonly TwoWayVariable[], field = 'variables'): void {
  const seen = new Set<string>();
  variables.forEach((variable, i) => {
    if (seen.has(variable.name)) {
      throw new UserError(`two-way variable "${variable.name}" is defined twice`, {
        field: `${field}[${i}].name`,
        code: 'invalid_config',
      });
    }
    seen.add(variable.name);
    variable.values.forEach((entry, j) => {
      if (entry.platform !== 'linux' && entry.platform !== 'darwin' && isUncPath(entry.value)) {
        throw uncPathError(entry.value, `${field}[${i}].values[${j}].value`);
      }
    });
  });
}

/** `\\server\share`, `//server/share`, `\\?\UNC\server\share`; not `\\?\C:\` (a drive path). */
export function isUncPath(path: string): boolean {
  if (/^[\\/]{2}[?.][\\/]/.test(path)) return /^[\\/]{2}[?.][\\/]UNC[\\/]/i.test(path);
  return /^[\\/]{2}[^\\/]/.test(path);
}

/** The error for a UNC path, telling the user to map a drive letter. */
function uncPathError(path: string, field?: string): UserError {
  const share = /^[\\/]{2}(?:[?.][\\/]UNC[\\/])?([^\\/]+)[\\/]+([^\\/]+)/i.exec(path);
  const example = share ? `\\\\${share[1]}\\${share[2]}` : '\\\\server\\share';
  return new UserError(
    `${path} is a UNC path; Kiln needs a drive letter: map a drive letter instead (for example \`net use S: ${example}\`) and use S:\\... in its place`,
    { field, code: 'unc_path' },
  );
}

/** Throws `uncPathError` for a UNC path. */
export function assertNotUncPath(path: string, field?: string): void {
  if (isUncPath(path)) throw uncPathError(path, field);
}

function toSlashes(path: string, platform: Platform): string {
  return platform === 'windows' ? path.replaceAll('\\', '/') : path;
}

function trimTrailingSlashes(path: string): string {
  return path.replace(/\/+$/, '');
}

/** `prefix` is a whole-segment prefix of `path` (`/mnt/farm` matches `/mnt/farm/x`, not `/mnt/farmer`). */
function startsWithPrefix(path: string, prefix: string, platform: Platform): boolean {
  if (path.length < prefix.length) return false;
  const head = path.slice(0, prefix.length);
  const same = platform === 'windows' ? head.toLowerCase() === prefix.toLowerCase() : head === prefix;
  if (!same) return false;
  if (path.length === prefix.length) return prefix !== '';
  return path[prefix.length] === '/';
}
