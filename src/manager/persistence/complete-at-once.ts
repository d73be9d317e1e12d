import { sql } from 'kysely';
import type { Db } from './schema/database.js';
import { retrying } from './transaction.js';
import type { TaskChange } from './task-changes.js';
import { assertTaskTransition } from '../state/transitions.js';

/** A worker's report that it completed the task it holds. */
export interface Completion {
  taskId: string;
  workerId: string;
  /** The worker's update sequence number, when it sends one (replays are recognised by it). */
  seq: number | undefined;
}

export interface CompletedAtOnce {
  changes: TaskChange[];
  /** Tasks that had one fewer unfinished dependency afterwards (work may be ready). */
  releasedDependents: number;
}

// Every completion here is active → completed; the move is one the task table allows, checked once.
assertTaskTransition('active', 'completed');

type Row = { applied: boolean; released: number; id: string | null; job_id: string; type: string; worker_id: string };

/**
 * Completes tasks in ONE autocommitted statement: the tasks, their update sequence numbers, the
 * dependents they release and their jobs' counters; one round trip and one commit instead of the
 * transaction's nine. It serves the common case only: every task is active and held by the worker
 * that reports it, the report is new (not a replay), and no job's status follows from it (the job
 * stays active: tasks remain unfinished and the failure share is not reached, as deriveJobStatus
 * decides). Otherwise it changes nothing and answers undefined, and the caller takes the
 * transactional path, which handles every case. Locks go tasks → job → dependents, the order the
 * transactional path takes too, so the two never deadlock each other.
 */
export async function completeAtOnce(
  db: Db,
  completions: readonly Completion[],
  jobFailShare: number,
): Promise<CompletedAtOnce | undefined> {
  if (completions.length === 0) return { changes: [], releasedDependents: 0 };
  const ids = completions.map((c) => c.taskId);
  const workers = completions.map((c) => c.workerId);
  const seqs = completions.map((c) => c.seq ?? null);
  // Prepared: one text whatever the batch size.
  const query = sql<Row>`/* prepared:complete_at_once */
    WITH u AS (SELECT * FROM unnest(${ids}::uuid[], ${workers}::uuid[], ${seqs}::bigint[]) AS u(id, worker_id, seq)),
    t AS (SELECT t.id, t.job_id, t.status, t.worker_id, t.last_update_seq FROM task t
          WHERE t.id = ANY(${ids}::uuid[]) ORDER BY t.id FOR UPDATE),
    held AS (
      SELECT count(*) = cardinality(${ids}::uuid[]) AND coalesce(bool_and(t.status = 'active' AND t.worker_id = u.worker_id
               AND (u.seq IS NULL OR t.last_update_seq IS NULL OR u.seq > t.last_update_seq)), false) AS yes
      FROM t JOIN u USING (id)),
    counts AS (SELECT job_id, count(*)::int AS n FROM t GROUP BY job_id),
    old AS (SELECT j.id, j.status, j.count_queued, j.count_active, j.count_soft_failed, j.count_paused, j.count_completed,
                   j.count_failed, j.count_canceled FROM job j WHERE j.id IN (SELECT job_id FROM counts) ORDER BY j.id FOR UPDATE),
    go AS (SELECT (SELECT yes FROM held) AND NOT EXISTS (
      SELECT 1 FROM old JOIN counts ON counts.job_id = old.id
      WHERE old.status <> 'active'
         OR old.count_queued + old.count_active + old.count_soft_failed + old.count_paused <= counts.n
         OR (old.count_failed > 0 AND old.count_failed >= greatest(1, ceil(${jobFailShare}::float8 * (old.count_queued
             + old.count_active + old.count_soft_failed + old.count_paused + old.count_completed + old.count_failed
             + old.count_canceled))))) AS yes),
    upd AS (
      UPDATE task SET status = 'completed', progress = 1, activity = 'completed', last_touched_at = NULL, updated_at = now(),
                      last_update_seq = CASE WHEN u.seq IS NULL THEN task.last_update_seq
                                             ELSE greatest(coalesce(task.last_update_seq, 0), u.seq) END
      FROM u WHERE task.id = u.id AND (SELECT yes FROM go)
      RETURNING task.id, task.job_id, task.type, task.worker_id),
    jobs AS (
      UPDATE job j SET count_active = j.count_active - counts.n, count_completed = j.count_completed + counts.n, updated_at = now()
      FROM counts WHERE j.id = counts.job_id AND (SELECT yes FROM go)),
    released AS (
      UPDATE task SET pending_deps = pending_deps - d.n
      FROM (SELECT task_id, count(*)::int AS n FROM task_dependency
            WHERE depends_on IN (SELECT id FROM upd) GROUP BY task_id) d
      WHERE task.id = d.task_id AND task.id <> ALL(${ids}::uuid[])
      RETURNING task.id)
    SELECT (SELECT yes FROM go) AS applied, (SELECT count(*) FROM released)::int AS released, upd.*
    FROM (SELECT 1) one LEFT JOIN upd ON true`;
  const { rows } = await retrying(() => query.execute(db));
  if (!rows[0]?.applied) return undefined;
  const changes: TaskChange[] = rows.flatMap((row) =>
    row.id === null
      ? []
      : [{ id: row.id, jobId: row.job_id, type: row.type, from: 'active', to: 'completed', workerId: row.worker_id }],
  );
  return { changes, releasedDependents: rows[0].released };
}
