/**
 * `worker.yaml` / `KILN_WORKER_*` / flags: the worker's settings, layered by loadConfig.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { loadConfig } from '../config/load.js';
import { TaskType } from '../jobs/types.js';
import { SECOND } from '../util/time.js';
import { PlatformSchema, platformOf } from '../util/platform.js';

const WorkerConfigSchema = Type.Object(
  {
    /** The manager, e.g. http://farm:7780 (several of one farm: comma-separated); without one the worker finds it (services.cfg, multicast, DNS-SD). */
    manager: Type.Optional(Type.String({ minLength: 1 })),
    /** Shown in the dashboard; the host name by default. */
    name: Type.String({ minLength: 1, maxLength: 200 }),
    tags: Type.Array(Type.String({ minLength: 1, maxLength: 100 })),
    /** Task types this worker runs (a job type's tasks go only to workers that declare theirs). */
    taskTypes: Type.Array(Type.String({ minLength: 1, pattern: '^[a-z][a-z0-9_-]*$' }), { minItems: 1 }),
    platform: PlatformSchema,
    /** The farm's shared secret, needed only to register (KILN_WORKER_SECRET). */
    secret: Type.Optional(Type.String({ minLength: 1 })),
    /** A file holding the farm secret (first line), used when `secret` is not given. */
    secretFile: Type.Optional(Type.String({ minLength: 1 })),
    /** ffmpeg program (path or name on PATH); default: the npm package's build, then PATH. */
    ffmpeg: Type.Optional(Type.String({ minLength: 1 })),
    /** Blender program (path or name on PATH); default: PATH, then the usual install folders. */
    blender: Type.Optional(Type.String({ minLength: 1 })),
    /** How often a running task asks "may I keep running?". */
    mayIRunIntervalMs: Type.Integer({ minimum: 100, maximum: 60_000 }),
    /** Progress and log lines are sent in batches at most this far apart. */
    updateIntervalMs: Type.Integer({ minimum: 10, maximum: 10_000 }),
    /** A batch is sent at once when it holds this many log lines. */
    updateBatchLines: Type.Integer({ minimum: 1, maximum: 10_000 }),
    /** Where updates wait while the manager cannot be reached; default `<home>/worker-queue`. */
    queueDir: Type.Optional(Type.String({ minLength: 1 })),
    /** After SIGTERM, a stopped command's process gets this long before SIGKILL. */
    killGraceMs: Type.Integer({ minimum: 0, maximum: 60_000 }),
    /** Longest wait between attempts to reach a manager that is away. */
    reconnectMaxDelayMs: Type.Integer({ minimum: 100, maximum: 300_000 }),
    /** How long one task request may wait on the manager for work. */
    taskWaitMs: Type.Integer({ minimum: 0, maximum: 60_000 }),
    /** While asleep, how often to ask the manager whether to wake. */
    sleepPollMs: Type.Integer({ minimum: 100, maximum: 300_000 }),
    logLevel: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)),
    ),
  },
  { additionalProperties: false },
);
export type WorkerConfig = Static<typeof WorkerConfigSchema>;

/**
 * Task types the built-in job types produce (render, video, misc, from src/jobs) plus the names
 * the `command` job type's `taskType` setting and farm conventions use.
 */
export const DEFAULT_TASK_TYPES: readonly string[] = Object.freeze([
  ...new Set([...Object.values(TaskType), 'render', 'video', 'misc', 'echo', 'command', 'transcode', 'copy']),
]);

function workerDefaults(): WorkerConfig {
  return Object.freeze({
    name: hostname() || 'kiln-worker',
    tags: [],
    taskTypes: [...DEFAULT_TASK_TYPES],
    platform: platformOf(),
    mayIRunIntervalMs: 2 * SECOND,
    updateIntervalMs: 250,
    updateBatchLines: 100,
    // Short: a manager's "stop" must take effect within about two seconds.
    killGraceMs: 1 * SECOND,
    reconnectMaxDelayMs: 5 * SECOND,
    taskWaitMs: 30 * SECOND,
    sleepPollMs: 5 * SECOND,
    logLevel: 'info',
  });
}

export interface WorkerFlags {
  manager?: string | undefined;
  name?: string | undefined;
  tags?: string[] | undefined;
  taskTypes?: string[] | undefined;
  secret?: string | undefined;
  logLevel?: WorkerConfig['logLevel'] | undefined;
}

/** Defaults, then `<home>/worker.yaml`, then `KILN_WORKER_*`, then flags. */
export function loadWorkerConfig(
  home: string,
  flags: WorkerFlags = {},
  env: NodeJS.ProcessEnv = process.env,
): WorkerConfig {
  const defined = Object.fromEntries(Object.entries(flags).filter(([, value]) => value !== undefined));
  return loadConfig('worker', WorkerConfigSchema, workerDefaults(), { home, flags: defined, env });
}

export function queueDirectory(home: string, config: Pick<WorkerConfig, 'queueDir'>): string {
  return config.queueDir ?? join(home, 'worker-queue');
}

/** The farm secret: `secret` (flag, KILN_WORKER_SECRET or worker.yaml), else the first line of `secretFile`. */
export function readFarmSecret(config: Pick<WorkerConfig, 'secret' | 'secretFile'>): string | undefined {
  if (config.secret) return config.secret;
  if (!config.secretFile) return undefined;
  const text = readFileSync(config.secretFile, 'utf8');
  const line = text.split(/\r?\n/).find((candidate) => candidate.trim() !== '');
  return line?.trim();
}
