/**
 * Text output of the farm commands: aligned tables, short ids, ages and durations, and the
 * one-line descriptions of jobs shared by `submit` and `jobs`. `--json` output goes through
 * printJson so every command prints JSON the same way.
 */
import type { Job } from '../client/index.js';
import { DAY, HOUR, MINUTE, SECOND } from '../util/time.js';

/** The first 8 characters of a UUID: enough to tell jobs apart in a listing. */
export const shortId = (id: string): string => id.slice(0, 8);
/**
 * Task ids are UUIDv7: their first digits are a timestamp that every task of a job shares, so
 * the short form shows the random end instead.
 */
export const shortTaskId = (id: string): string => `…${id.slice(-8)}`;

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export interface Column<T> {
  header: string;
  value: (row: T) => string;
  /** Numbers read better right-aligned. */
  align?: 'left' | 'right';
  /** Longer values are cut with an ellipsis. */
  max?: number;
}

/** An aligned table: a header line, then one line per row; columns two spaces apart. */
export function formatTable<T>(columns: Array<Column<T>>, rows: readonly T[]): string {
  const cells = rows.map((row) => columns.map((column) => truncate(oneLine(column.value(row)), column.max)));
  // Every line has one cell per column; a missing one would print as empty.
  const cell = (line: readonly string[], index: number): string => line[index] ?? '';
  const layout = columns.map((column, index) => ({
    align: column.align,
    width: Math.max(column.header.length, ...cells.map((line) => cell(line, index).length)),
  }));
  const render = (values: string[]): string =>
    layout
      .map(({ align, width }, index) =>
        align === 'right' ? cell(values, index).padStart(width) : cell(values, index).padEnd(width),
      )
      .join('  ')
      .trimEnd();
  return [render(columns.map((column) => column.header)), ...cells.map(render)].join('\n');
}

/** `key: value` lines with the keys aligned; undefined values are left out. */
export function formatFields(fields: Array<[string, string | undefined]>): string {
  const shown = fields.filter((field): field is [string, string] => field[1] !== undefined);
  const width = Math.max(...shown.map(([key]) => key.length));
  return shown.map(([key, value]) => `${`${key}:`.padEnd(width + 2)}${value}`).join('\n');
}

export function truncate(text: string, max?: number): string {
  if (max === undefined || text.length <= max) return text;
  return `${text.slice(0, Math.max(0, max - 1))}…`;
}

const oneLine = (text: string): string => text.replace(/\s*[\r\n]+\s*/g, ' ');

/** How long ago, compactly: `45s`, `12m`, `3h`, `2d`. */
export function formatAge(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '-';
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return '-';
  const ms = Math.max(0, now - then);
  if (ms < MINUTE) return `${Math.floor(ms / SECOND)}s`;
  if (ms < HOUR) return `${Math.floor(ms / MINUTE)}m`;
  if (ms < DAY) return `${Math.floor(ms / HOUR)}h`;
  return `${Math.floor(ms / DAY)}d`;
}

/** A duration for people: `850ms`, `12s`, `3m 05s`, `2h 10m`. */
export function formatDuration(ms: number): string {
  if (ms < SECOND) return `${Math.round(ms)}ms`;
  if (ms < MINUTE) return `${Math.round(ms / SECOND)}s`;
  if (ms < HOUR) return `${Math.floor(ms / MINUTE)}m ${String(Math.floor((ms % MINUTE) / SECOND)).padStart(2, '0')}s`;
  return `${Math.floor(ms / HOUR)}h ${String(Math.floor((ms % HOUR) / MINUTE)).padStart(2, '0')}m`;
}

/** `1 task`, `3 tasks`. */
export const plural = (count: number, noun: string): string => `${count} ${noun}${count === 1 ? '' : 's'}`;

/** Completed tasks over all tasks: `3/10`. */
export const jobProgress = (job: Pick<Job, 'taskCount' | 'taskCounts'>): string =>
  `${job.taskCounts.completed}/${job.taskCount}`;

/** `3f2a1b2c "my-job"`: how one-line messages name a job. */
export const jobLabel = (job: Pick<Job, 'id' | 'name'>): string => `${shortId(job.id)} ${JSON.stringify(job.name)}`;

/** The non-zero task counts, most telling first: `3 completed, 1 active, 6 queued`. */
export function describeCounts(job: Pick<Job, 'taskCounts'>): string {
  const order = ['completed', 'active', 'queued', 'soft-failed', 'failed', 'paused', 'canceled'] as const;
  const parts = order
    .filter((status) => job.taskCounts[status] > 0)
    .map((status) => `${job.taskCounts[status]} ${status}`);
  return parts.length === 0 ? 'no tasks' : parts.join(', ');
}

/** A job's status with what it is doing, when the manager says: `active (rendering frame 12)`. */
export function statusWithActivity(status: string, activity: string): string {
  const text = activity.trim();
  return text && text !== status ? `${status} (${truncate(oneLine(text), 80)})` : status;
}
