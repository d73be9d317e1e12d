import { sql, type RawBuilder } from 'kysely';
import type { JobRow } from './schema/tables.js';
import type { Trx } from './schema/database.js';
import { emptyCounts, type TaskStatus } from '../state/statuses.js';
import { assertJobTransition, assertTaskTransition } from '../state/transitions.js';

/** One task's status change, as the transaction made it. */
export interface TaskChange {
  id: string;
  jobId: string;
  type: string;
  from: TaskStatus;
  to: TaskStatus;
  workerId: string | null;
}

export interface TaskFilter {
  ids?: string[];
  jobId?: string;
  statuses?: readonly TaskStatus[];
  workerId?: string;
  /** Tasks this worker has failed. */
  failedBy?: string;
  type?: string;
}

export interface TaskSet {
  status?: TaskStatus;
  workerId?: string | null;
  activity?: string;
  progress?: number;
  clearTouch?: boolean;
  /** Appends a worker to failed_by_workers (distinct). */
  addFailedBy?: string;
  /** Removes a worker from failed_by_workers. */
  removeFailedBy?: string;
  clearFailedBy?: boolean;
}

/**
 * Updates tasks and returns each one's old and new status, then adjusts the per-status
 * counters of their jobs in the same transaction, so a job's status can be derived from
 * its counters without counting 100,000 rows.
 */
export async function updateTasks(
  trx: Trx,
  filter: TaskFilter,
  set: TaskSet,
  options: { deferCounts?: boolean } = {},
): Promise<TaskChange[]> {
  const where: RawBuilder<unknown>[] = [];
  if (filter.ids) where.push(sql`id = ANY(${filter.ids}::uuid[])`);
  if (filter.jobId) where.push(sql`job_id = ${filter.jobId}`);
  if (filter.statuses) where.push(sql`status = ANY(${[...filter.statuses]}::text[])`);
  if (filter.workerId) where.push(sql`worker_id = ${filter.workerId}`);
  if (filter.failedBy) where.push(sql`${filter.failedBy}::uuid = ANY(failed_by_workers)`);
  if (filter.type) where.push(sql`type = ${filter.type}`);
  if (where.length === 0) throw new Error('updateTasks needs a filter');
  // A status change names the statuses it moves from, each allowed to reach the new one by
  // the transition table: the one way a task's status changes (besides assignTasks).
  if (set.status) {
    if (!filter.statuses?.length) throw new Error('updateTasks: a status change must name the statuses it moves from');
    for (const from of filter.statuses) assertTaskTransition(from, set.status);
  }

  const sets: RawBuilder<unknown>[] = [sql`updated_at = now()`];
  if (set.status) sets.push(sql`status = ${set.status}`);
  if (set.workerId !== undefined) sets.push(sql`worker_id = ${set.workerId}`);
  if (set.activity !== undefined) sets.push(sql`activity = ${set.activity}`);
  if (set.progress !== undefined) sets.push(sql`progress = ${set.progress}`);
  if (set.clearTouch) sets.push(sql`last_touched_at = NULL`);
  if (set.addFailedBy)
    sets.push(
      sql`failed_by_workers = array_append(array_remove(t.failed_by_workers, ${set.addFailedBy}::uuid), ${set.addFailedBy}::uuid)`,
    );
  if (set.removeFailedBy)
    sets.push(sql`failed_by_workers = array_remove(t.failed_by_workers, ${set.removeFailedBy}::uuid)`);
  if (set.clearFailedBy) sets.push(sql`failed_by_workers = '{}'`);

  const { rows } = await sql<{
    id: string;
    job_id: string;
    type: string;
    from_status: TaskStatus;
    to_status: TaskStatus;
    worker_id: string | null;
  }>`/* prepared */
    WITH old AS (SELECT id, status FROM task WHERE ${sql.join(where, sql` AND `)} ORDER BY id FOR UPDATE)
    UPDATE task t SET ${sql.join(sets, sql`, `)}
    FROM old WHERE t.id = old.id
    RETURNING t.id, t.job_id, t.type, old.status AS from_status, t.status AS to_status, t.worker_id`.execute(trx);
  const changes = rows.map((row) => ({
    id: row.id,
    jobId: row.job_id,
    type: row.type,
    from: row.from_status,
    to: row.to_status,
    workerId: row.worker_id,
  }));
  // Deferred: the caller applies the counts just before it commits, so the job row
  // (which every completion of the job touches) stays locked as briefly as possible.
  if (!options.deferCounts) await applyCountChanges(trx, changes);
  return changes;
}

// A job's first assigned task makes it active inside the counter update (one statement fewer
// per dispatch); the move is still one the job table allows, checked once here.
assertJobTransition('queued', 'active');
const ACTIVATE_QUEUED_JOB = sql`, status = CASE WHEN j.status = 'queued' THEN 'active' ELSE j.status END`;

const COUNT_COLUMN: Record<TaskStatus, string> = {
  queued: 'count_queued',
  active: 'count_active',
  'soft-failed': 'count_soft_failed',
  failed: 'count_failed',
  completed: 'count_completed',
  canceled: 'count_canceled',
  paused: 'count_paused',
};

/**
 * Applies the changes' per-status deltas to their jobs' counters. Returns the updated job
 * rows (locked by this transaction), so a caller that next derives job statuses needs no
 * second read.
 */
export async function applyCountChanges(
  trx: Trx,
  changes: TaskChange[],
  options: { activateQueued?: boolean } = {},
): Promise<Map<string, JobRow & { previous_status: JobRow['status'] }>> {
  const perJob = new Map<string, ReturnType<typeof emptyCounts>>();
  for (const change of changes) {
    if (change.from === change.to) continue;
    const deltas = perJob.get(change.jobId) ?? emptyCounts();
    deltas[change.from] -= 1;
    deltas[change.to] += 1;
    perJob.set(change.jobId, deltas);
  }
  const updated = new Map<string, JobRow & { previous_status: JobRow['status'] }>();
  // A job's first assigned task also makes it active, in the same statement; the locked
  // read in FROM tells the status it had.
  const status = options.activateQueued ? ACTIVATE_QUEUED_JOB : sql``;
  // Fixed job order: two transactions touching the same jobs lock them alike, no deadlock.
  for (const [jobId, deltas] of [...perJob].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const sets = (Object.entries(deltas) as Array<[TaskStatus, number]>)
      .filter(([, delta]) => delta !== 0)
      .map(
        ([taskStatus, delta]) =>
          sql`${sql.ref(COUNT_COLUMN[taskStatus])} = ${sql.ref(`j.${COUNT_COLUMN[taskStatus]}`)} + ${delta}`,
      );
    if (sets.length === 0) continue;
    const { rows } = await sql<JobRow & { previous_status: JobRow['status'] }>`/* prepared */
      UPDATE job j SET ${sql.join(sets, sql`, `)}, updated_at = now() ${status}
      FROM (SELECT id, status FROM job WHERE id = ${jobId} FOR UPDATE) old
      WHERE j.id = old.id RETURNING j.*, old.status AS previous_status`.execute(trx);
    if (rows[0]) updated.set(jobId, rows[0]);
  }
  return updated;
}
