import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { UserError, isErrnoException, toError } from '../util/errors.js';
import { builtinJobTypes } from './builtins.js';
import { checkCompiledTasks, JobTypeError } from './compiled-tasks.js';
import { defineJobType } from './define.js';
import { chunkFrames, formatFrames, parseFrameRange, splitRuns } from './frame-range.js';
import { conditionProblem, describeSettings, type SettingInfo } from './setting-info.js';
import { isObjectSchema, validateSettings, type SettingsResult } from './settings.js';
import { makeCommand, type CompiledTask, type JobToCompile, type JobType } from './types.js';

/**
 * What a job type module in `job_types_dir` may receive. Such a file usually cannot import
 * TypeBox itself (bare imports resolve from the file's own folder), so a module may
 * default-export a function instead of a JobType: `export default ({ Type }) => ({ ... })`.
 */
export const jobTypeKit = Object.freeze({
  Type,
  Value,
  defineJobType,
  makeCommand,
  parseFrameRange,
  formatFrames,
  chunkFrames,
  splitRuns,
  UserError,
});
export type JobTypeKit = typeof jobTypeKit;

export interface JobTypeLoadReport {
  loaded: Array<{ file: string; name: string; replaced: boolean }>;
  /** Modules skipped, each with why; the manager logs these and carries on. */
  problems: Array<{ file: string; message: string }>;
}

export interface JobTypeSummary {
  name: string;
  label: string;
  description: string;
  etag: string;
  settingsSchema: JobType['settingsSchema'];
}

/** A summary plus each setting described (see setting-info.ts), for people and for clients. */
export interface JobTypeDetail extends JobTypeSummary {
  settings: SettingInfo[];
}

const NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/**
 * Version tag of a job type's settings contract: sha256 (hex) of its name and its settings
 * schema as canonical JSON (see canonicalJson), so the same schema gives the same etag in every
 * process and after every restart. A submission carrying an older etag is refused.
 */
export function etag(jobType: Pick<JobType, 'name' | 'settingsSchema'>): string {
  return createHash('sha256')
    .update(jobType.name)
    .update('\n')
    .update(canonicalJson(jobType.settingsSchema))
    .digest('hex');
}

/**
 * JSON with object keys sorted, and JSON Schema's `required` lists sorted (they are sets), so
 * that reordering properties in code does not change the etag. Symbol keys (TypeBox's Kind)
 * are left out, as JSON.stringify does.
 */
function canonicalJson(value: unknown, key = ''): string {
  if (Array.isArray(value)) {
    const items = value.map((item) => canonicalJson(item ?? null));
    if (key === 'required' && value.every((item) => typeof item === 'string')) items.sort();
    return `[${items.join(',')}]`;
  }
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const entries = Object.keys(record)
      .filter((name) => record[name] !== undefined && typeof record[name] !== 'function')
      .sort()
      .map((name) => `${JSON.stringify(name)}:${canonicalJson(record[name], name)}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Why `value` is not a usable JobType, or undefined when it is. */
export function describeJobTypeProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'is not an object';
  const type = value as Partial<JobType>;
  if (typeof type.name !== 'string' || !NAME.test(type.name))
    return 'name must be lower-case words joined by "-", e.g. "my-render"';
  if (typeof type.label !== 'string' || type.label.trim() === '') return 'label must be non-empty text';
  if (typeof type.description !== 'string') return 'description must be text';
  if (!isObjectSchema(type.settingsSchema)) return 'settingsSchema must be a TypeBox Type.Object(...)';
  const conditions = conditionProblem(type.settingsSchema);
  if (conditions) return conditions;
  if (typeof type.compile !== 'function') return 'compile must be a function';
  if (type.checkSettings !== undefined && typeof type.checkSettings !== 'function')
    return 'checkSettings must be a function when given';
  return undefined;
}

/** The job types a manager knows: the built-ins plus those loaded from `job_types_dir`. */
export class JobTypeRegistry {
  readonly #types = new Map<string, { type: JobType; etag: string }>();

  constructor(types: Iterable<JobType> = builtinJobTypes) {
    for (const type of types) this.register(type);
  }

  /** Adds a job type; throws JobTypeError when it is malformed or, unless replacing, its name is taken. */
  register(type: JobType, { replace = false } = {}): void {
    const problem = describeJobTypeProblem(type);
    if (problem)
      throw new JobTypeError(`job type ${JSON.stringify((type as Partial<JobType> | null)?.name ?? '?')}: ${problem}`);
    if (!replace && this.#types.has(type.name)) throw new JobTypeError(`job type "${type.name}" is already registered`);
    this.#types.set(type.name, { type, etag: etag(type) });
  }

  /**
   * Loads every `.js` and `.mjs` file of `dir` (not subfolders), in name order. Each must
   * default-export a JobType, or a function of the JobTypeKit returning one. A module named like
   * a built-in replaces it; a bad module, or a second module with a name already loaded from
   * this folder, is reported in `problems` and skipped. A missing folder loads nothing.
   */
  async loadDirectory(dir: string): Promise<JobTypeLoadReport> {
    const report: JobTypeLoadReport = { loaded: [], problems: [] };
    let names: string[];
    try {
      names = (await readdir(dir)).filter((name) => /\.m?js$/.test(name) && !name.startsWith('.')).sort();
    } catch (error) {
      if (!isErrnoException(error, 'ENOENT'))
        report.problems.push({ file: dir, message: `cannot read the folder: ${toError(error).message}` });
      return report;
    }
    const fromThisFolder = new Map<string, string>();
    for (const name of names) {
      const file = join(dir, name);
      try {
        const type = await importJobType(file);
        const earlier = fromThisFolder.get(type.name);
        if (earlier) throw new Error(`job type "${type.name}" is already defined by ${earlier}`);
        const replaced = this.#types.has(type.name);
        this.register(type, { replace: true });
        fromThisFolder.set(type.name, name);
        report.loaded.push({ file, name: type.name, replaced });
      } catch (error) {
        report.problems.push({ file, message: toError(error).message.split('\n')[0] ?? '' });
      }
    }
    return report;
  }

  has(name: string): boolean {
    return this.#types.has(name);
  }

  get(name: string): JobType | undefined {
    return this.#types.get(name)?.type;
  }

  /** The job type, or a UserError (field `type`, code `unknown_job_type`) listing the known ones. */
  require(name: string): JobType {
    return this.#require(name).type;
  }

  #require(name: string) {
    const entry = this.#types.get(name);
    if (!entry) {
      throw new UserError(
        `unknown job type ${JSON.stringify(name)}; known types: ${[...this.#types.keys()].join(', ')}`,
        {
          field: 'type',
          code: 'unknown_job_type',
        },
      );
    }
    return entry;
  }

  list(): JobType[] {
    return [...this.#types.values()].map((entry) => entry.type);
  }

  summaries(): JobTypeSummary[] {
    return [...this.#types.values()].map(({ type, etag }) => ({
      name: type.name,
      label: type.label,
      description: type.description,
      etag,
      settingsSchema: type.settingsSchema,
    }));
  }

  /** The summary with every setting described, or undefined for an unknown name. */
  detail(name: string): JobTypeDetail | undefined {
    const entry = this.#types.get(name);
    if (!entry) return undefined;
    const { type, etag } = entry;
    return {
      name,
      label: type.label,
      description: type.description,
      etag,
      settingsSchema: type.settingsSchema,
      settings: describeSettings(type.settingsSchema),
    };
  }

  /** The etag of a registered job type (see `etag`). */
  etag(name: string): string {
    return this.#require(name).etag;
  }

  /** Defaults applied, or a UserError naming the setting; see settings.ts. */
  validateSettings(type: string | JobType, settings: unknown): SettingsResult {
    return validateSettings(typeof type === 'string' ? this.require(type) : type, settings);
  }

  /**
   * Validates the job's settings, compiles it with its type and checks the result against the
   * task contract. Throws UserError for the submitter's mistakes, JobTypeError for a broken type.
   */
  compile(job: JobToCompile): CompiledTask[] {
    const type = this.require(job.type);
    const result = validateSettings(type, job.settings);
    if (!result.ok) throw result.error;
    let tasks: unknown;
    try {
      tasks = type.compile({ ...job, settings: result.settings });
    } catch (error) {
      if (error instanceof UserError) throw error;
      throw new JobTypeError(`job type "${type.name}" failed to compile job ${job.id}: ${toError(error).message}`, {
        cause: error,
      });
    }
    checkCompiledTasks(type.name, tasks);
    return tasks;
  }
}

async function importJobType(file: string): Promise<JobType> {
  const { mtimeMs } = await stat(file);
  // The query makes a changed file load afresh when the folder is loaded again.
  const module = (await import(`${pathToFileURL(file).href}?mtime=${mtimeMs}`)) as { default?: unknown };
  let value = module.default;
  if (value === undefined) throw new Error('has no default export; export default a job type');
  if (typeof value === 'function') value = await (value as (kit: JobTypeKit) => unknown)(jobTypeKit);
  const problem = describeJobTypeProblem(value);
  if (problem) throw new Error(`default export ${problem}`);
  return value as JobType;
}

/** A registry of the built-ins plus `jobTypesDir` (when given), with the load report. */
export async function createJobTypeRegistry(
  options: { jobTypesDir?: string } = {},
): Promise<{ registry: JobTypeRegistry; report: JobTypeLoadReport }> {
  const registry = new JobTypeRegistry();
  const report = options.jobTypesDir ? await registry.loadDirectory(options.jobTypesDir) : { loaded: [], problems: [] };
  return { registry, report };
}
