/**
 * What the update queue batches per task between two sends (progress, activity, log lines), and
 * how a batch becomes a TaskUpdate within the API's limits.
 */
import type { TaskUpdate } from '../client/types.js';

export type StatusUpdate = Omit<TaskUpdate, 'seq'>;

export interface Pending {
  progress?: number;
  activity?: string;
  log: string[];
}

/** TaskUpdate.activity's maximum length. */
export const MAX_ACTIVITY = 1000;
/** TaskUpdate.log's maximum number of lines. */
const MAX_LOG_ITEMS = 10_000;

export function clamp01(value: number): number {
  return Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0;
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Programs may print NUL bytes; the manager cannot store them, so they show as ␀. */
export function printable(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\u2400') : text;
}

/** The batch as one update; undefined when it holds nothing. */
export function batchUpdate(batch: Pending | undefined): StatusUpdate | undefined {
  if (!batch) return undefined;
  const update: StatusUpdate = {};
  if (batch.log.length) update.log = batch.log;
  if (batch.progress !== undefined) update.progress = batch.progress;
  if (batch.activity !== undefined) update.activity = batch.activity;
  return Object.keys(update).length ? update : undefined;
}

/**
 * An update (a status change, say) sent after its task's pending batch, as one: the batch's log
 * lines first, the update's progress and activity winning over the batch's.
 */
export function mergeBatch(batch: Pending | undefined, update: StatusUpdate): StatusUpdate {
  const merged: StatusUpdate = { ...update };
  const log = [...(batch?.log ?? []), ...(update.log ?? [])];
  if (log.length) merged.log = log;
  else delete merged.log;
  if (merged.progress === undefined && batch?.progress !== undefined) merged.progress = batch.progress;
  if (merged.progress !== undefined) merged.progress = clamp01(merged.progress);
  if (merged.activity === undefined && batch?.activity !== undefined) merged.activity = batch.activity;
  if (merged.activity !== undefined) merged.activity = truncate(merged.activity, MAX_ACTIVITY);
  return merged;
}

/** An update with more log lines than one request may carry becomes several, in order. */
export function splitLog(update: StatusUpdate): StatusUpdate[] {
  const log = update.log ?? [];
  if (log.length <= MAX_LOG_ITEMS) return [update];
  const { log: _all, ...rest } = update;
  const parts: StatusUpdate[] = [];
  for (let start = 0; start < log.length; start += MAX_LOG_ITEMS)
    parts.push({ log: log.slice(start, start + MAX_LOG_ITEMS) });
  // The status, progress and activity go with the last lines.
  Object.assign(parts[parts.length - 1] as StatusUpdate, rest);
  return parts;
}
