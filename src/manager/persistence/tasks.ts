import { sql } from 'kysely';
import type { TaskRow } from './schema/tables.js';
import { NotFoundError } from './errors.js';
import type { Db, Trx } from './schema/database.js';

export async function fetchTask(db: Db | Trx, id: string, options: { forUpdate?: boolean } = {}): Promise<TaskRow> {
  let query = db.selectFrom('task').selectAll().where('id', '=', id);
  if (options.forUpdate) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  if (!row) throw new NotFoundError('task', id);
  return row;
}

/** Several tasks, locked for this transaction in id order (the order every locker uses). */
export async function fetchTasksForUpdate(trx: Trx, ids: string[]): Promise<Map<string, TaskRow>> {
  if (ids.length === 0) return new Map();
  // Prepared (one text whatever the count): a finishing batch runs this every time.
  const { rows } = await sql<TaskRow>`/* prepared */
    SELECT * FROM task WHERE id = ANY(${[...new Set(ids)].sort()}::uuid[]) ORDER BY id FOR UPDATE`.execute(trx);
  return new Map(rows.map((row) => [row.id, row]));
}

/** Records the newest worker update sequence number applied to each task. */
export async function recordUpdateSeqs(trx: Trx, seqs: Map<string, number>): Promise<void> {
  if (seqs.size === 0) return;
  await sql`/* prepared */
    UPDATE task SET last_update_seq = greatest(coalesce(task.last_update_seq, 0), u.seq)
    FROM unnest(${[...seqs.keys()]}::uuid[], ${[...seqs.values()]}::bigint[]) AS u(id, seq)
    WHERE task.id = u.id`.execute(trx);
}

/** Progress and activity of running tasks, many at once; marks them touched. */
export async function touchTasks(
  trx: Trx,
  updates: Array<{ id: string; progress?: number; activity?: string }>,
  at: Date,
): Promise<void> {
  if (updates.length === 0) return;
  await sql`/* prepared */
    UPDATE task SET progress = coalesce(u.progress, task.progress), activity = coalesce(u.activity, task.activity),
                    last_touched_at = ${at}, updated_at = now()
    FROM unnest(${updates.map((u) => u.id)}::uuid[], ${updates.map((u) => u.progress ?? null)}::real[], ${updates.map((u) => u.activity ?? null)}::text[])
         AS u(id, progress, activity)
    WHERE task.id = u.id`.execute(trx);
}

/** One page of a job's tasks in index order, and how many it has (the API never sends them all at once). */
export async function pageTasksOfJob(db: Db, jobId: string, page: Page): Promise<{ rows: TaskRow[]; total: number }> {
  const of = db.selectFrom('task').where('job_id', '=', jobId);
  const [rows, total] = await Promise.all([
    of.selectAll().orderBy('idx').limit(page.limit).offset(page.offset).execute(),
    of.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(total.n) };
}

export interface Page {
  limit: number;
  offset: number;
}

export async function dependenciesOf(db: Db | Trx, taskIds: string[]): Promise<Map<string, string[]>> {
  const map = new Map<string, string[]>();
  if (taskIds.length === 0) return map;
  const rows = await db
    .selectFrom('task_dependency')
    .select(['task_id', 'depends_on'])
    .where('task_id', 'in', taskIds)
    .execute();
  for (const row of rows) map.set(row.task_id, [...(map.get(row.task_id) ?? []), row.depends_on]);
  return map;
}

/** The active task a worker holds, if any. */
export async function activeTaskOfWorker(db: Db | Trx, workerId: string): Promise<TaskRow | undefined> {
  return db
    .selectFrom('task')
    .selectAll()
    .where('worker_id', '=', workerId)
    .where('status', '=', 'active')
    .executeTakeFirst();
}

/** worker id → the id of the task it runs, for every worker running one. */
export async function activeTaskIdsByWorker(db: Db): Promise<Map<string, string>> {
  const rows = await db.selectFrom('task').select(['id', 'worker_id']).where('status', '=', 'active').execute();
  const byWorker = new Map<string, string>();
  for (const row of rows) if (row.worker_id) byWorker.set(row.worker_id, row.id);
  return byWorker;
}

/** Tasks that depended on these and may now be ready: one fewer pending dependency each. */
export async function releaseDependents(trx: Trx, completedTaskIds: string[]): Promise<number> {
  if (completedTaskIds.length === 0) return 0;
  const result = await sql`/* prepared */
    UPDATE task SET pending_deps = pending_deps - d.n
    FROM (SELECT task_id, count(*)::int AS n FROM task_dependency WHERE depends_on = ANY(${completedTaskIds}::uuid[]) GROUP BY task_id) d
    WHERE task.id = d.task_id`.execute(trx);
  return Number(result.numAffectedRows ?? 0);
}

/** Recounts unfinished dependencies for a job's tasks (after a requeue undid completions). */
export async function recountPendingDependencies(trx: Trx, jobId: string): Promise<void> {
  await sql`
    UPDATE task t SET pending_deps = coalesce((
      SELECT count(*) FROM task_dependency d JOIN task dep ON dep.id = d.depends_on
      WHERE d.task_id = t.id AND dep.status <> 'completed'), 0)
    WHERE t.job_id = ${jobId}`.execute(trx);
}

/** How many tasks of one type in one job a worker has failed. */
export async function countTasksFailedByWorker(
  trx: Trx,
  jobId: string,
  taskType: string,
  workerId: string,
): Promise<number> {
  const row = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM task WHERE job_id = ${jobId} AND type = ${taskType} AND ${workerId}::uuid = ANY(failed_by_workers)`.execute(
    trx,
  );
  return row.rows[0]?.n ?? 0;
}

/** Running tasks no worker has reported on since `cutoff` (through task_active: at most one per worker). */
export async function activeTasksUntouchedSince(
  db: Db,
  cutoff: Date,
): Promise<Array<{ id: string; job_id: string; worker_id: string }>> {
  const rows = await db
    .selectFrom('task')
    .select(['id', 'job_id', 'worker_id'])
    .where('status', '=', 'active')
    .where('last_touched_at', '<', cutoff)
    .execute();
  // An active task always has its worker; the filter only tells the type so.
  return rows.flatMap((row) => (row.worker_id ? [{ id: row.id, job_id: row.job_id, worker_id: row.worker_id }] : []));
}

/** Fresh planner statistics for the task table (after a large job changed its shape at once). */
export async function analyzeTasks(db: Db): Promise<void> {
  await sql`ANALYZE task`.execute(db);
}
