import { sql } from 'kysely';
import type { Db } from './schema/database.js';
import { retrying } from './transaction.js';
import { integerArrayLiteral, uuidArrayLiteral } from './array-literals.js';
import type { TaskChange } from './task-changes.js';
import type { TaskStatus } from '../state/statuses.js';
import { assertTaskTransition } from '../state/transitions.js';
import { READY, TASK_ORDER, type HandedTask, type WaitingWorker } from './schedule.js';

/** A worker's report that it completed the task it holds. */
export interface Completion {
  taskId: string;
  workerId: string;
  /** The worker's update sequence number, when it sends one (replays are recognised by it). */
  seq: number | undefined;
}

/**
 * A waiting worker whose request skipped the lookup of its row (it was awake with nothing asked of it
 * last time): the statement confirms that it still is, on the platform and with the capabilities it
 * was grouped by, and changes nothing otherwise. It reads the row as of its own start, as the lookup
 * did: a request committed meanwhile is seen by the worker's next request.
 */
export interface UncheckedWorker {
  id: string;
  platform: string;
}

export interface CompletedAtOnce {
  changes: TaskChange[];
  /** Tasks that had one fewer unfinished dependency afterwards (work may be ready). */
  releasedDependents: number;
}

export interface AssignedAtOnce {
  /** worker id → the task it now holds. */
  assigned: Map<string, HandedTask>;
  changes: TaskChange[];
  /** Jobs whose first task this was: queued → active. */
  activatedJobs: string[];
}

export interface RoundAtOnce {
  /** Undefined: a completion needs the transactional path, and NOTHING was changed (no pick either). */
  completed: CompletedAtOnce | undefined;
  /** Whether every unchecked worker was found as the caller holds it (also when nothing was changed). */
  workersConfirmed: boolean;
  /**
   * Undefined: nothing was picked because a task the pick would hand out excludes one of the workers
   * (they failed it, or its job blocklists them): the caller picks with the per-worker rules
   * (pickTasks). Also undefined when `completed` is.
   */
  picked: AssignedAtOnce | undefined;
}

/**
 * What a round's one statement did, as the dispatcher needs it: applied (the completions, and the
 * pick unless it stood back), or nothing at all; then whether it found every unchecked worker as
 * the caller holds it (those may take the transactional path without a lookup).
 */
export type RoundOutcome =
  | { applied: true; picked: AssignedAtOnce | undefined }
  | { applied: false; workersConfirmed: boolean };

// Every completion here is active → completed; the move is one the task table allows, checked once.
assertTaskTransition('active', 'completed');

type Row = HandedTask & {
  applied: boolean;
  fit: boolean;
  blocked: boolean;
  released: number;
  completed_id: string | null;
  completed_job_id: string | null;
  completed_type: string | null;
  completed_worker_id: string | null;
  id: string | null;
  from_status: TaskStatus;
  previous_status: string | null;
};

/**
 * A scheduling round in ONE autocommitted statement (one round trip, one commit): the plain
 * completions its waiting workers brought, then tasks picked and assigned for a group of waiting
 * workers with the same task types and tags, the jobs' counters and a queued job's activation
 * included. Either part may be empty. It serves the common case only:
 *  - Completions: every task is active and held by the worker that reports it, the report is new
 *    (not a replay), and no job's status follows from it (tasks remain unfinished, the failure share
 *    is not reached, as deriveJobStatus decides). Otherwise it changes nothing at all (`completed`
 *    undefined), and the caller takes the transactional path, which handles every case.
 *  - Unchecked workers (see UncheckedWorker): each is awake, nothing is asked of it, and its platform,
 *    task types and tags are what the caller holds. Otherwise, too, it changes nothing.
 *  - Pick: when a task it would hand out was already failed by one of these workers, or its job
 *    blocklists one of them, it picks nothing (`picked` undefined) and the caller takes pickTasks,
 *    whose per-worker exclusions keep the same order of tasks.
 * Tasks the completions release are not seen by this statement's pick (one snapshot): the caller
 * hears of them (releasedDependents) and runs another round.
 * Locks go tasks → job → dependents, the order the transactional paths take too, so they never
 * deadlock each other; the pick's SKIP LOCKED never waits, so several managers (or a transaction
 * on the other path) never hand out one task twice.
 */
export async function settleAndPickAtOnce(
  db: Db,
  completions: readonly Completion[],
  group: readonly WaitingWorker[],
  at: Date,
  jobFailShare: number,
  unchecked: readonly UncheckedWorker[] = [],
): Promise<RoundAtOnce> {
  const done = uuidArrayLiteral(completions.map((c) => c.taskId));
  const doneBy = uuidArrayLiteral(completions.map((c) => c.workerId));
  const seqs = integerArrayLiteral(completions.map((c) => c.seq ?? null));
  const waiting = uuidArrayLiteral(group.map((worker) => worker.id));
  const types = group[0]?.supportedTaskTypes ?? [];
  const tags = group[0]?.tags ?? [];
  const checkIds = uuidArrayLiteral(unchecked.map((worker) => worker.id));
  const checkPlatforms = unchecked.map((worker) => worker.platform);
  // Prepared: planning this statement costs more than running it, and one text serves every size.
  // The id arrays go once each (d, p): every parameter is serialised and parsed on its own. The
  // capability arrays (a few names) go twice: the pick's scan keeps its plan with them inline.
  const query = sql<Row>`/* prepared:settle_and_pick */
    WITH d AS (SELECT ${done}::uuid[] AS ids),
    u AS (SELECT * FROM unnest((SELECT ids FROM d), ${doneBy}::uuid[], ${seqs}::bigint[]) AS u(id, worker_id, seq)),
    t AS (SELECT t.id, t.job_id, t.status, t.worker_id, t.last_update_seq FROM task t
          WHERE t.id = ANY((SELECT ids FROM d)::uuid[]) ORDER BY t.id FOR UPDATE),
    held AS (
      SELECT count(*) = cardinality((SELECT ids FROM d)) AND coalesce(bool_and(t.status = 'active'
               AND t.worker_id = u.worker_id AND (u.seq IS NULL OR t.last_update_seq IS NULL OR u.seq > t.last_update_seq)), true) AS yes
      FROM t JOIN u USING (id)),
    ended AS (SELECT job_id, count(*)::int AS n FROM t GROUP BY job_id),
    k AS (SELECT * FROM unnest(${checkIds}::uuid[], ${checkPlatforms}::text[]) AS k(id, platform)),
    cap AS (SELECT ${types}::text[] AS types, ${tags}::text[] AS tags),
    fit AS (
      SELECT count(*) = (SELECT count(*) FROM k) AS yes FROM worker w JOIN k USING (id), cap
      WHERE w.status = 'awake' AND w.status_requested IS NULL AND w.platform = k.platform
        AND w.supported_task_types @> cap.types AND w.supported_task_types <@ cap.types
        AND w.tags @> cap.tags AND w.tags <@ cap.tags),
    p AS (SELECT ${waiting}::uuid[] AS ids),
    w AS (SELECT worker_id, n FROM unnest((SELECT ids FROM p)) WITH ORDINALITY AS w(worker_id, n)),
    c AS (
      SELECT t.id, t.job_id, t.status, t.job_priority, t.priority, t.job_created_at, t.idx,
             (t.failed_by_workers && (SELECT ids FROM p) OR EXISTS (SELECT 1 FROM job_blocklist b
               WHERE b.job_id = t.job_id AND b.task_type = t.type AND b.worker_id = ANY((SELECT ids FROM p)::uuid[]))) AS excluded
      FROM task t
      WHERE ${READY} AND type = ANY(${types}::text[]) AND (job_tag IS NULL OR job_tag = ANY(${tags}::text[]))
      ORDER BY ${TASK_ORDER} LIMIT ${group.length} FOR UPDATE OF t SKIP LOCKED),
    blocked AS (SELECT EXISTS (SELECT 1 FROM c WHERE excluded) AS yes),
    old AS (SELECT j.id, j.status, j.count_queued, j.count_active, j.count_soft_failed, j.count_paused, j.count_completed,
                   j.count_failed, j.count_canceled FROM job j
            WHERE j.id IN (SELECT job_id FROM ended UNION SELECT job_id FROM c) ORDER BY j.id FOR UPDATE),
    go AS (SELECT (SELECT yes FROM held) AND (SELECT yes FROM fit) AND NOT EXISTS (
      SELECT 1 FROM old JOIN ended ON ended.job_id = old.id
      WHERE old.status <> 'active'
         OR old.count_queued + old.count_active + old.count_soft_failed + old.count_paused <= ended.n
         OR (old.count_failed > 0 AND old.count_failed >= greatest(1, ceil(${jobFailShare}::float8 * (old.count_queued
             + old.count_active + old.count_soft_failed + old.count_paused + old.count_completed + old.count_failed
             + old.count_canceled))))) AS yes),
    completed AS (
      UPDATE task SET status = 'completed', progress = 1, activity = 'completed', last_touched_at = NULL, updated_at = now(),
                      last_update_seq = CASE WHEN u.seq IS NULL THEN task.last_update_seq
                                             ELSE greatest(coalesce(task.last_update_seq, 0), u.seq) END
      FROM u WHERE task.id = u.id AND (SELECT yes FROM go)
      RETURNING task.id, task.job_id, task.type, task.worker_id),
    pairs AS (
      SELECT r.id, r.status AS from_status, w.worker_id
      FROM (SELECT c.id, c.status, row_number() OVER (ORDER BY ${TASK_ORDER}) AS n FROM c) r JOIN w USING (n)
      WHERE (SELECT yes FROM go) AND NOT (SELECT yes FROM blocked)),
    assigned AS (
      UPDATE task t SET status = 'active', worker_id = pairs.worker_id, last_touched_at = ${at}, updated_at = now(),
                        progress = 0, activity = '', last_update_seq = NULL
      FROM pairs WHERE t.id = pairs.id
      RETURNING t.id, t.job_id, t.name, t.type, t.priority, t.commands, t.status, t.worker_id, pairs.from_status),
    started AS (
      SELECT job_id, count(*) FILTER (WHERE from_status = 'queued')::int AS queued,
             count(*) FILTER (WHERE from_status = 'soft-failed')::int AS soft_failed, count(*)::int AS n
      FROM assigned GROUP BY job_id),
    jobs AS (
      UPDATE job j SET count_queued = j.count_queued - coalesce(s.queued, 0),
                       count_soft_failed = j.count_soft_failed - coalesce(s.soft_failed, 0),
                       count_active = j.count_active + coalesce(s.n, 0) - coalesce(e.n, 0),
                       count_completed = j.count_completed + coalesce(e.n, 0), updated_at = now(),
                       status = CASE WHEN s.n > 0 AND j.status = 'queued' THEN 'active' ELSE j.status END
      FROM old LEFT JOIN ended e ON e.job_id = old.id LEFT JOIN started s ON s.job_id = old.id
      WHERE j.id = old.id AND (e.n IS NOT NULL OR s.n IS NOT NULL) AND (SELECT yes FROM go)
      RETURNING j.id, old.status AS previous_status),
    released AS (
      UPDATE task SET pending_deps = pending_deps - r.n
      FROM (SELECT task_id, count(*)::int AS n FROM task_dependency
            WHERE depends_on IN (SELECT id FROM completed) GROUP BY task_id) r
      WHERE task.id = r.task_id AND task.id <> ALL((SELECT ids FROM d)::uuid[])
      RETURNING task.id)
    SELECT (SELECT yes FROM go) AS applied, (SELECT yes FROM fit) AS fit, (SELECT yes FROM blocked) AS blocked,
           (SELECT count(*) FROM released)::int AS released,
           completed.id AS completed_id, completed.job_id AS completed_job_id, completed.type AS completed_type,
           completed.worker_id AS completed_worker_id, assigned.*, jobs.previous_status
    FROM (SELECT 1) one
    LEFT JOIN (completed FULL JOIN (assigned LEFT JOIN jobs ON jobs.id = assigned.job_id) ON false) ON true`;
  const { rows } = await retrying(() => query.execute(db));
  const [first] = rows;
  if (!first?.applied) return { completed: undefined, picked: undefined, workersConfirmed: first?.fit ?? false };
  const completedChanges: TaskChange[] = [];
  const assigned = new Map<string, HandedTask>();
  const pickedChanges: TaskChange[] = [];
  const activated = new Set<string>();
  for (const row of rows) {
    if (row.completed_id !== null) {
      completedChanges.push({
        id: row.completed_id,
        jobId: row.completed_job_id as string,
        type: row.completed_type as string,
        from: 'active',
        to: 'completed',
        workerId: row.completed_worker_id,
      });
      continue;
    }
    if (row.id === null || row.worker_id === null) continue; // the one row of an empty round
    const {
      applied: _applied,
      fit: _fit,
      blocked: _blocked,
      released: _released,
      completed_id: _id,
      completed_job_id: _job,
      completed_type: _type,
      completed_worker_id: _worker,
      from_status,
      previous_status,
      ...task
    } = row;
    // Picked rows are runnable (READY), so each move is one the task table allows; checked all the same.
    assertTaskTransition(from_status, 'active');
    assigned.set(task.worker_id as string, task as HandedTask);
    pickedChanges.push({
      id: task.id as string,
      jobId: task.job_id,
      type: task.type,
      from: from_status,
      to: 'active',
      workerId: task.worker_id,
    });
    if (previous_status === 'queued') activated.add(task.job_id);
  }
  return {
    completed: { changes: completedChanges, releasedDependents: first.released },
    picked: first.blocked ? undefined : { assigned, changes: pickedChanges, activatedJobs: [...activated] },
    workersConfirmed: true,
  };
}

/** Plain completions alone (see settleAndPickAtOnce); undefined: the transactional path must take them. */
export async function completeAtOnce(
  db: Db,
  completions: readonly Completion[],
  jobFailShare: number,
): Promise<CompletedAtOnce | undefined> {
  if (completions.length === 0) return { changes: [], releasedDependents: 0 };
  return (await settleAndPickAtOnce(db, completions, [], new Date(), jobFailShare)).completed;
}

/** A pick alone (see settleAndPickAtOnce); undefined: pickTasks must take this group. */
export async function pickAndAssignAtOnce(
  db: Db,
  group: readonly WaitingWorker[],
  at: Date,
): Promise<AssignedAtOnce | undefined> {
  if (group.length === 0) return { assigned: new Map(), changes: [], activatedJobs: [] };
  // No completions: the failure share is never consulted.
  return (await settleAndPickAtOnce(db, [], group, at, 1)).picked;
}
