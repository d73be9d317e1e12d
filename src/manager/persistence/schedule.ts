import { sql } from 'kysely';
import type { TaskRow } from './schema/tables.js';
import type { Trx } from './schema/database.js';
import { applyCountChanges, type TaskChange } from './task-changes.js';
import type { TaskStatus } from '../state/statuses.js';
import { assertTaskTransition } from '../state/transitions.js';

/** Read-only: its capabilityKey is made once. */
export interface WaitingWorker {
  readonly id: string;
  readonly supportedTaskTypes: readonly string[];
  readonly tags: readonly string[];
}

/** Each waiting worker's key, made once (a round asks for it several times per worker). */
const capabilityKeys = new WeakMap<WaitingWorker, string>();

/** Workers with the same key compete for the same tasks (before per-worker exclusions). */
export function capabilityKey(worker: WaitingWorker): string {
  let key = capabilityKeys.get(worker);
  if (key === undefined) {
    key = `${[...worker.supportedTaskTypes].sort().join(',')}|${[...worker.tags].sort().join(',')}`;
    capabilityKeys.set(worker, key);
  }
  return key;
}

/**
 * What a worker is handed: the columns its answer is built from. The one-statement round returns
 * only these (each timestamp or array more is parsed per task, on the dispatch path).
 */
export type HandedTask = Pick<
  TaskRow,
  'id' | 'job_id' | 'name' | 'type' | 'priority' | 'commands' | 'status' | 'worker_id'
>;

/**
 * Workers (or what holds them: `workerOf`) by capability (capabilityKey), in order of first
 * appearance; no group is empty.
 */
export function groupByCapability<T = WaitingWorker>(
  items: readonly T[],
  workerOf: (item: T) => WaitingWorker = (item) => item as WaitingWorker,
): Array<[T, ...T[]]> {
  const groups = new Map<string, [T, ...T[]]>();
  for (const item of items) {
    const key = capabilityKey(workerOf(item));
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return [...groups.values()];
}

/** A task eligible for workers that support `types` and carry `tags`, best first. */
export const READY = sql`status IN ('queued', 'soft-failed') AND pending_deps = 0`;
export const TASK_ORDER = sql`job_priority DESC, priority DESC, job_created_at, job_id, idx`;

/**
 * Picks tasks for many waiting workers in one transaction: one ordered index scan per
 * group of workers with the same task types and tags, then per-worker exclusions (tasks it
 * already failed, jobs it is blocklisted for) applied in memory. Rows are locked with
 * SKIP LOCKED, so several managers (or overlapping rounds) never hand out one task twice.
 */
export async function pickTasks(trx: Trx, workers: WaitingWorker[]): Promise<Map<string, TaskRow>> {
  const assigned = new Map<string, TaskRow>();
  const taken = new Set<string>();
  for (const group of groupByCapability(workers)) {
    const { supportedTaskTypes: types, tags } = group[0];
    // A few spare rows cover the usual exclusions; the per-worker query below covers the rest.
    const limit = group.length + 4;
    // Each candidate carries the workers blocklisted for its job and type (a primary-key probe,
    // nearly always empty), so the exclusions need no statement of their own.
    const { rows: candidates } = await sql<TaskRow & { blocked_workers: string[] }>`
      SELECT t.*, ARRAY(SELECT b.worker_id FROM job_blocklist b WHERE b.job_id = t.job_id AND b.task_type = t.type) AS blocked_workers
      FROM task t WHERE ${READY} AND type = ANY(${types}::text[]) AND (job_tag IS NULL OR job_tag = ANY(${tags}::text[]))
      ORDER BY ${TASK_ORDER} LIMIT ${limit} FOR UPDATE OF t SKIP LOCKED`.execute(trx);
    const leftovers: WaitingWorker[] = [];
    for (const worker of group) {
      const task = candidates.find(
        (c) => !taken.has(c.id) && !c.failed_by_workers.includes(worker.id) && !c.blocked_workers.includes(worker.id),
      );
      if (task) {
        const { blocked_workers: _blocked, ...row } = task;
        taken.add(task.id);
        assigned.set(worker.id, row);
      } else leftovers.push(worker);
    }
    // The page ran out for some workers because of their own exclusions: look further for each.
    if (candidates.length === limit) {
      for (const worker of leftovers) {
        const { rows } = await sql<TaskRow>`
          SELECT * FROM task t WHERE ${READY} AND type = ANY(${types}::text[]) AND (job_tag IS NULL OR job_tag = ANY(${tags}::text[]))
            AND NOT (${worker.id}::uuid = ANY(failed_by_workers)) AND id <> ALL(${[...taken]}::uuid[])
            AND NOT EXISTS (SELECT 1 FROM job_blocklist b WHERE b.job_id = t.job_id AND b.worker_id = ${worker.id} AND b.task_type = t.type)
          ORDER BY ${TASK_ORDER} LIMIT 1 FOR UPDATE SKIP LOCKED`.execute(trx);
        if (rows[0]) {
          taken.add(rows[0].id);
          assigned.set(worker.id, rows[0]);
        }
      }
    }
  }
  return assigned;
}

/** Marks picked tasks active for their workers (one statement), and their queued jobs active. */
export async function assignTasks(
  trx: Trx,
  assignments: Map<string, TaskRow>,
  at: Date,
): Promise<{ changes: TaskChange[]; activatedJobs: string[] }> {
  if (assignments.size === 0) return { changes: [], activatedJobs: [] };
  const workerIds = [...assignments.keys()];
  const taskIds = [...assignments.values()].map((task) => task.id);
  const { rows } = await sql<{ id: string; job_id: string; type: string; worker_id: string; from_status: TaskStatus }>`
    WITH a AS (SELECT * FROM unnest(${taskIds}::uuid[], ${workerIds}::uuid[]) AS a(task_id, worker_id)),
         old AS (SELECT t.id, t.status FROM task t JOIN a ON a.task_id = t.id)
    UPDATE task t SET status = 'active', worker_id = a.worker_id, last_touched_at = ${at}, updated_at = now(), progress = 0, activity = '',
                      last_update_seq = NULL
    FROM a, old WHERE t.id = a.task_id AND old.id = t.id
    RETURNING t.id, t.job_id, t.type, t.worker_id, old.status AS from_status`.execute(trx);
  const changes: TaskChange[] = rows.map((r) => ({
    id: r.id,
    jobId: r.job_id,
    type: r.type,
    from: r.from_status,
    to: 'active',
    workerId: r.worker_id,
  }));
  // Picked rows are runnable (READY), so each move is one the task table allows; checked all the same.
  for (const change of changes) assertTaskTransition(change.from, 'active');
  const counted = await applyCountChanges(trx, changes, { activateQueued: true });
  const activatedJobs = [...counted.values()].filter((job) => job.previous_status === 'queued').map((job) => job.id);
  return { changes, activatedJobs };
}
