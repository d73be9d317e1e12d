import { sql } from 'kysely';
import type { TaskRow } from './schema/tables.js';
import type { Db } from './schema/database.js';
import { retrying } from './transaction.js';
import type { TaskChange } from './task-changes.js';
import type { TaskStatus } from '../state/statuses.js';
import { assertTaskTransition } from '../state/transitions.js';
import { READY, TASK_ORDER, type WaitingWorker } from './schedule.js';

export interface AssignedAtOnce {
  /** worker id → the task it now holds. */
  assigned: Map<string, TaskRow>;
  changes: TaskChange[];
  /** Jobs whose first task this was: queued → active. */
  activatedJobs: string[];
}

type Row = TaskRow & { blocked: boolean; id: string | null; from_status: TaskStatus; previous_status: string | null };

/**
 * Picks and assigns tasks for a group of waiting workers with the same task types and tags in ONE
 * statement (autocommit: one round trip to the database instead of five for a transaction), job
 * counters and a queued job's activation included. It serves the common case only: when a task
 * it would hand out was already failed by one of these workers, or its job blocklists one of
 * them, it changes nothing and answers undefined, and the caller takes the transactional path
 * (pickTasks), whose per-worker exclusions keep the same order of tasks.
 * SKIP LOCKED: several managers, or a transaction on the other path, never hand out one task twice.
 */
export async function pickAndAssignAtOnce(
  db: Db,
  group: readonly WaitingWorker[],
  at: Date,
): Promise<AssignedAtOnce | undefined> {
  const [first] = group;
  if (!first) return { assigned: new Map(), changes: [], activatedJobs: [] };
  const ids = group.map((worker) => worker.id);
  // Prepared: planning this statement costs more than running it. The ids go once (p): each
  // parameter is serialised and parsed on its own.
  const query = sql<Row>`/* prepared:pick_and_assign */
    WITH p AS (SELECT ${ids}::uuid[] AS ids),
    w AS (SELECT worker_id, n FROM unnest((SELECT ids FROM p)) WITH ORDINALITY AS w(worker_id, n)),
    c AS (
      SELECT t.id, t.job_id, t.status, t.job_priority, t.priority, t.job_created_at, t.idx,
             (t.failed_by_workers && (SELECT ids FROM p) OR EXISTS (SELECT 1 FROM job_blocklist b
               WHERE b.job_id = t.job_id AND b.task_type = t.type AND b.worker_id = ANY((SELECT ids FROM p)::uuid[]))) AS excluded
      FROM task t
      WHERE ${READY} AND type = ANY(${first.supportedTaskTypes}::text[]) AND (job_tag IS NULL OR job_tag = ANY(${first.tags}::text[]))
      ORDER BY ${TASK_ORDER} LIMIT ${ids.length} FOR UPDATE OF t SKIP LOCKED),
    blocked AS (SELECT EXISTS (SELECT 1 FROM c WHERE excluded) AS yes),
    pairs AS (
      SELECT r.id, r.status AS from_status, w.worker_id
      FROM (SELECT c.id, c.status, row_number() OVER (ORDER BY ${TASK_ORDER}) AS n FROM c) r JOIN w USING (n)
      WHERE NOT (SELECT yes FROM blocked)),
    upd AS (
      UPDATE task t SET status = 'active', worker_id = pairs.worker_id, last_touched_at = ${at}, updated_at = now(),
                        progress = 0, activity = '', last_update_seq = NULL
      FROM pairs WHERE t.id = pairs.id
      RETURNING t.*, pairs.from_status),
    counts AS (
      SELECT job_id, count(*) FILTER (WHERE from_status = 'queued')::int AS queued,
             count(*) FILTER (WHERE from_status = 'soft-failed')::int AS soft_failed, count(*)::int AS n
      FROM upd GROUP BY job_id),
    jobs AS (
      UPDATE job j SET count_queued = j.count_queued - counts.queued, count_soft_failed = j.count_soft_failed - counts.soft_failed,
                       count_active = j.count_active + counts.n, updated_at = now(),
                       status = CASE WHEN j.status = 'queued' THEN 'active' ELSE j.status END
      FROM counts, (SELECT id, status FROM job WHERE id IN (SELECT job_id FROM counts) ORDER BY id FOR UPDATE) old
      WHERE j.id = counts.job_id AND old.id = j.id
      RETURNING j.id, old.status AS previous_status)
    SELECT b.yes AS blocked, upd.*, jobs.previous_status
    FROM blocked b LEFT JOIN upd ON true LEFT JOIN jobs ON jobs.id = upd.job_id`;
  const { rows } = await retrying(() => query.execute(db));
  if (rows[0]?.blocked) return undefined;
  const assigned = new Map<string, TaskRow>();
  const changes: TaskChange[] = [];
  const activated = new Set<string>();
  for (const { blocked: _blocked, from_status, previous_status, ...task } of rows) {
    if (task.id === null || task.worker_id === null) continue; // the one row of an empty pick
    // Picked rows are runnable (READY), so each move is one the task table allows; checked all the same.
    assertTaskTransition(from_status, 'active');
    assigned.set(task.worker_id, task as TaskRow);
    changes.push({
      id: task.id,
      jobId: task.job_id,
      type: task.type,
      from: from_status,
      to: 'active',
      workerId: task.worker_id,
    });
    if (previous_status === 'queued') activated.add(task.job_id);
  }
  return { assigned, changes, activatedJobs: [...activated] };
}
