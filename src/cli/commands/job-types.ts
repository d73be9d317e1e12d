/**
 * `kiln job-types [ls]` and `kiln job-types show TYPE [--renderer NAME]`: which job types the
 * manager knows and what each setting means. Everything shown comes from the manager's
 * GET /job-types(/:name), which describes the settings from the type's own schema; this file
 * only lays them out.
 */
import type { Command } from 'commander';
import type { JobTypeDetail, JobTypeSummary } from '../../client/index.js';
import {
  conditionAllows,
  describeCondition,
  type SettingCondition,
  type SettingInfo,
} from '../../jobs/setting-info.js';
import { UserError } from '../../util/errors.js';
import { action } from '../run.js';
import { withManager, withManagerOptions, type ManagerFlags } from '../client.js';
import { formatTable, printJson, type Column } from '../format.js';
import { fetchJobType } from './submit.js';

/** Enough of an etag to compare by eye, as git shortens hashes; `--json` has it whole. */
const SHORT_ETAG = 12;

const TYPE_COLUMNS: Array<Column<JobTypeSummary>> = [
  { header: 'NAME', value: (type) => type.name },
  { header: 'LABEL', value: (type) => type.label, max: 24 },
  { header: 'DESCRIPTION', value: (type) => type.description || '-', max: 72 },
  { header: 'ETAG', value: (type) => type.etag.slice(0, SHORT_ETAG) },
];

function formatJobTypeTable(types: readonly JobTypeSummary[]): string {
  return formatTable(TYPE_COLUMNS, types);
}

/**
 * The settings that can apply when the settings in `chosen` have those values (e.g.
 * `{ renderer: 'blender' }`), with the chosen part of each condition settled: a condition that
 * holds disappears, one that `chosen` contradicts removes the setting (appliesWhen) or its
 * requirement (requiredWhen).
 */
export function settingsFor(settings: readonly SettingInfo[], chosen: Record<string, unknown>): SettingInfo[] {
  return settings
    .filter((setting) => conditionAllows(setting.appliesWhen, chosen))
    .map((setting) => {
      const result: SettingInfo = { ...setting };
      delete result.appliesWhen;
      delete result.requiredWhen;
      const applies = openPart(setting.appliesWhen, chosen);
      if (applies) result.appliesWhen = applies;
      if (setting.requiredWhen && conditionAllows(setting.requiredWhen, chosen)) {
        const open = openPart(setting.requiredWhen, chosen);
        if (open) result.requiredWhen = open;
        else result.required = true;
      }
      return result;
    });
}

/** The part of a condition that `chosen` leaves open, or undefined when nothing is left. */
function openPart(
  condition: SettingCondition | undefined,
  chosen: Record<string, unknown>,
): SettingCondition | undefined {
  if (!condition) return undefined;
  const open = Object.entries(condition).filter(([key]) => !(key in chosen));
  return open.length ? Object.fromEntries(open) : undefined;
}

/** `--renderer blender` as `{ renderer: 'blender' }`, checked against the type's own settings. */
function chosenSettings(
  detail: Pick<JobTypeDetail, 'name' | 'settings'>,
  flags: { renderer?: string | undefined },
): Record<string, unknown> {
  if (flags.renderer === undefined) return {};
  const setting = detail.settings.find((candidate) => candidate.name === 'renderer');
  if (!setting)
    throw new UserError(`${detail.name} jobs have no renderer setting; leave out --renderer`, { field: 'renderer' });
  if (setting.allowed && !setting.allowed.includes(flags.renderer)) {
    throw new UserError(`--renderer must be one of ${setting.allowed.join(', ')}, got "${flags.renderer}"`, {
      field: 'renderer',
    });
  }
  return { renderer: flags.renderer };
}

/** `string`, `list of string`, `map of string`. */
function settingType(setting: Pick<SettingInfo, 'type' | 'items'>): string {
  if (setting.type === 'array') return setting.items ? `list of ${setting.items}` : 'list';
  if (setting.type === 'object' && setting.items) return `map of ${setting.items}`;
  return setting.type;
}

/** `required`, `required when renderer is blender`, `default 1280`, or `optional`. */
export function settingRequirement(setting: SettingInfo): string {
  if (setting.required) return 'required';
  if (setting.requiredWhen) return `required when ${describeCondition(setting.requiredWhen)}`;
  if (setting.default !== undefined) return `default ${JSON.stringify(setting.default)}`;
  return 'optional';
}

/** The values a setting accepts, in words: `one of builtin, blender`, `1 to 16384`, `not empty`. */
export function settingLimits(setting: SettingInfo): string {
  const parts: string[] = [];
  if (setting.allowed) parts.push(`one of ${setting.allowed.map(String).join(', ')}`);
  const { minimum, maximum, exclusiveMinimum, exclusiveMaximum } = setting;
  if (minimum !== undefined && maximum !== undefined) parts.push(`${minimum} to ${maximum}`);
  else {
    if (minimum !== undefined) parts.push(`at least ${minimum}`);
    if (exclusiveMinimum !== undefined) parts.push(`greater than ${exclusiveMinimum}`);
    if (maximum !== undefined) parts.push(`at most ${maximum}`);
  }
  if (exclusiveMaximum !== undefined) parts.push(`below ${exclusiveMaximum}`);
  if (setting.multipleOf !== undefined)
    parts.push(setting.multipleOf === 2 ? 'even' : `multiple of ${setting.multipleOf}`);
  if (setting.minLength !== undefined)
    parts.push(setting.minLength === 1 ? 'not empty' : `at least ${setting.minLength} characters`);
  if (setting.maxLength !== undefined) parts.push(`at most ${setting.maxLength} characters`);
  if (setting.pattern !== undefined) parts.push(`matching ${setting.pattern}`);
  if (setting.minItems !== undefined)
    parts.push(`at least ${setting.minItems} item${setting.minItems === 1 ? '' : 's'}`);
  if (setting.maxItems !== undefined) parts.push(`at most ${setting.maxItems} items`);
  return parts.join(', ');
}

/**
 * A job type for people: what it is, then its settings grouped by when they apply (those that
 * always apply first, then `Only when renderer is blender:` and so on), each setting on one line
 * (name, type, required or default, accepted values) with its meaning on the next.
 */
function formatJobTypeDetail(detail: JobTypeDetail, chosen: Record<string, unknown> = {}): string {
  const settings = settingsFor(detail.settings, chosen);
  const choice = Object.entries(chosen)
    .map(([key, value]) => `${key} ${String(value)}`)
    .join(', ');
  const lines = [`${detail.name} (${detail.label})`];
  if (detail.description) lines.push(detail.description);
  lines.push(`etag: ${detail.etag}`, '');
  if (settings.length === 0) {
    lines.push('No settings.');
    return lines.join('\n');
  }

  // A chosen setting (--renderer blender) shows its chosen value rather than its default.
  const requirement = (setting: SettingInfo): string =>
    setting.name in chosen ? `set to ${JSON.stringify(chosen[setting.name])}` : settingRequirement(setting);
  const rows = settings.map((setting) => ({
    setting,
    name: setting.name,
    type: settingType(setting),
    requirement: requirement(setting),
    limits: settingLimits(setting),
  }));
  type Row = (typeof rows)[number];
  const widthOf = (cell: (row: Row) => string): number => Math.max(...rows.map((row) => cell(row).length));
  const widths = {
    name: widthOf((row) => row.name),
    type: widthOf((row) => row.type),
    requirement: widthOf((row) => row.requirement),
  };
  const groups = new Map<string, Row[]>();
  for (const row of rows) {
    const key = row.setting.appliesWhen ? describeCondition(row.setting.appliesWhen) : '';
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  const order = [...groups.entries()].sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : 0));
  for (const [key, group] of order) {
    if (key === '') lines.push(choice ? `Settings with ${choice}:` : 'Settings:');
    else lines.push(`Only when ${key}:`);
    for (const row of group) {
      const cells = [
        row.name.padEnd(widths.name),
        row.type.padEnd(widths.type),
        row.requirement.padEnd(widths.requirement),
        row.limits,
      ];
      lines.push(`  ${cells.join('  ')}`.trimEnd());
      if (row.setting.description) lines.push(`      ${row.setting.description}`);
    }
    lines.push('');
  }
  const preset = Object.entries(chosen)
    .map(([key, value]) => `--set ${key}=${String(value)} `)
    .join('');
  lines.push(`Give them with: kiln submit ${detail.name} ${preset}--set NAME=VALUE ...`);
  return lines.join('\n');
}

interface ShowFlags extends ManagerFlags {
  renderer?: string;
}

export function registerJobTypesCommands(program: Command): void {
  const jobTypes = program
    .command('job-types')
    .description('the job types the manager knows, and what their settings mean');

  withManagerOptions(jobTypes.command('ls', { isDefault: true }))
    .description('list the job types: name, label, description, etag (the default)')
    .action(
      action((flags: ManagerFlags) =>
        withManager(flags, async ({ api }) => {
          const list = await api.listJobTypes();
          if (flags.json) return printJson(list);
          if (list.jobTypes.length === 0) return void console.log('no job types');
          console.log(formatJobTypeTable(list.jobTypes));
        }),
      ),
    );

  withManagerOptions(jobTypes.command('show').argument('<type>', 'job type, e.g. render'))
    .description(
      "a job type's settings: type, default, whether required, accepted values, meaning, and which renderer each applies to",
    )
    .option('--renderer <name>', 'only the settings that apply with this renderer (render jobs: builtin or blender)')
    .action(
      action((type: string, flags: ShowFlags) =>
        withManager(flags, async ({ api }) => {
          const detail = await fetchJobType(api, type.trim());
          const chosen = chosenSettings(detail, flags);
          if (flags.json) return printJson({ ...detail, settings: settingsFor(detail.settings, chosen) });
          console.log(formatJobTypeDetail(detail, chosen));
        }),
      ),
    );
}
