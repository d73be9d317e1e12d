import type { Job, TaskRun } from '../../../src/contract/index.js';

/** How times, durations and progress read on the page. */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "0.7 s", "12 s", "4 min 05 s", "2 h 10 min", "3 d 4 h". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 10 * SECOND) return `${(ms / SECOND).toFixed(1)} s`;
  if (ms < MINUTE) return `${Math.round(ms / SECOND)} s`;
  if (ms < HOUR)
    return `${Math.floor(ms / MINUTE)} min ${String(Math.floor((ms % MINUTE) / SECOND)).padStart(2, '0')} s`;
  if (ms < DAY) return `${Math.floor(ms / HOUR)} h ${Math.floor((ms % HOUR) / MINUTE)} min`;
  return `${Math.floor(ms / DAY)} d ${Math.floor((ms % DAY) / HOUR)} h`;
}

/** "12 s ago", "5 min ago", or the date for older times. */
export function formatAgo(iso: string | null | undefined, now: number): string {
  if (!iso) return '—';
  const ms = now - Date.parse(iso);
  if (ms < 5 * SECOND) return 'just now';
  if (ms < DAY) return `${formatDuration(ms).replace(/ \d+ s$/, '')} ago`;
  return formatTime(iso);
}

/** Local time to the minute, as short as is clear: "14:05" today, "12-02 14:05" this year, else the full date. */
export function formatTime(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const d = new Date(iso);
  const today = new Date(now);
  const pad = (n: number) => String(n).padStart(2, '0');
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  if (d.toDateString() === today.toDateString()) return time;
  const day = `${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  return d.getFullYear() === today.getFullYear() ? `${day} ${time}` : `${d.getFullYear()}-${day} ${time}`;
}

/** Share of a job's tasks that are done (completed or canceled), 0..1. */
export function jobProgress(job: Job): number {
  if (job.taskCount === 0) return 0;
  return (job.taskCounts.completed + job.taskCounts.canceled) / job.taskCount;
}

const FINISHED = new Set(['completed', 'failed', 'canceled']);

export function isFinished(job: Job): boolean {
  return FINISHED.has(job.status);
}

/**
 * When a running job should be done, from its pace so far: the time since its first task
 * started, scaled by the tasks still to do. Null while nothing is done yet, or when not running.
 */
export function estimateEnd(job: Job, startedAt: string | null | undefined, now: number): number | null {
  if (!startedAt || job.status !== 'active') return null;
  const done = job.taskCounts.completed;
  const left = job.taskCount - done - job.taskCounts.canceled - job.taskCounts.failed;
  if (done === 0 || left <= 0) return null;
  const elapsed = now - Date.parse(startedAt);
  return now + (elapsed / done) * left;
}

/** A run's duration in ms; running ones count until `now`; null without a start. */
export function runDuration(run: TaskRun, now: number): number | null {
  if (!run.startedAt) return null;
  const end = run.finishedAt ? Date.parse(run.finishedAt) : now;
  return end - Date.parse(run.startedAt);
}

/** Plain text for a status, for screen readers and titles ("soft-failed" → "soft failed"). */
export function statusLabel(status: string): string {
  return status.replaceAll('-', ' ');
}

const STATUS_COLORS: Record<string, string> = {
  queued: 'queued',
  active: 'active',
  awake: 'completed',
  completed: 'completed',
  failed: 'failed',
  'soft-failed': 'failed',
  error: 'failed',
  paused: 'paused',
  'pause-requested': 'paused',
  restart: 'paused',
  canceled: 'canceled',
  'cancel-requested': 'canceled',
  offline: 'canceled',
  asleep: 'asleep',
  running: 'active',
  requeued: 'queued',
};

/** The CSS colour variable that stands for a status. */
export function statusColor(status: string): string {
  return `var(--${STATUS_COLORS[status] ?? 'queued'})`;
}
