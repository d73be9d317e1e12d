import { sql } from 'kysely';
import type { Db } from './schema/database.js';

/** The farm's history for the dashboard (tables task_run and farm_sample): runs of tasks, load samples. */

export interface RunRecord {
  id: string;
  taskId: string;
  jobId: string;
  workerId: string | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  outcome: string;
}

/**
 * New runs, in one statement; finished ones may arrive here already ended. One array per column
 * (unnest), not a VALUES list: a busy farm stores thousands of runs per flush, and a list of seven
 * parameters per run is a new statement text to parse and plan each time.
 */
export async function insertRuns(db: Db, runs: RunRecord[]): Promise<void> {
  if (runs.length === 0) return;
  const at = (date: Date | null): string | null => date?.toISOString() ?? null;
  await sql`/* prepared:insert_runs */
    INSERT INTO task_run (id, task_id, job_id, worker_id, started_at, finished_at, outcome)
    SELECT * FROM unnest(${runs.map((r) => r.id)}::uuid[], ${runs.map((r) => r.taskId)}::uuid[],
                         ${runs.map((r) => r.jobId)}::uuid[], ${runs.map((r) => r.workerId)}::uuid[],
                         ${runs.map((r) => at(r.startedAt))}::timestamptz[], ${runs.map((r) => at(r.finishedAt))}::timestamptz[],
                         ${runs.map((r) => r.outcome)}::text[])
    ON CONFLICT (id) DO NOTHING`.execute(db);
}

/**
 * Ends runs stored earlier, in one statement. A run another manager ended already (the worker
 * moved to it, or the task was stopped through it) keeps the end written first.
 */
export async function finishRuns(
  db: Db,
  runs: Array<{ id: string; finishedAt: Date; outcome: string }>,
): Promise<void> {
  if (runs.length === 0) return;
  await sql`
    UPDATE task_run SET finished_at = ended.finished_at, outcome = ended.outcome
    FROM unnest(${runs.map((r) => r.id)}::uuid[], ${runs.map((r) => r.finishedAt.toISOString())}::timestamptz[],
                ${runs.map((r) => r.outcome)}::text[]) AS ended(id, finished_at, outcome)
    WHERE task_run.id = ended.id AND task_run.finished_at IS NULL`.execute(db);
}

/**
 * Ends whatever run of each task is still open, by task (the run may have been started through
 * another manager); in one statement. Returns the tasks that had an open run.
 */
export async function finishOpenRunsOfTasks(
  db: Db,
  ends: Array<{ taskId: string; finishedAt: Date; outcome: string }>,
): Promise<Set<string>> {
  if (ends.length === 0) return new Set();
  const { rows } = await sql<{ task_id: string }>`
    UPDATE task_run SET finished_at = ended.finished_at, outcome = ended.outcome
    FROM unnest(${ends.map((e) => e.taskId)}::uuid[], ${ends.map((e) => e.finishedAt.toISOString())}::timestamptz[],
                ${ends.map((e) => e.outcome)}::text[]) AS ended(task_id, finished_at, outcome)
    WHERE task_run.task_id = ended.task_id AND task_run.finished_at IS NULL
    RETURNING task_run.task_id`.execute(db);
  return new Set(rows.map((row) => row.task_id));
}

export interface StoredRun {
  task_id: string;
  worker_id: string | null;
  worker_name: string | null;
  started_at: Date | null;
  finished_at: Date | null;
  outcome: string;
}

/** A job's runs, oldest first, at most `limit` (the newest ones when there are more). */
export async function fetchJobRuns(db: Db, jobId: string, limit: number): Promise<StoredRun[]> {
  const rows = await db
    .selectFrom('task_run')
    .leftJoin('worker', 'worker.id', 'task_run.worker_id')
    .select([
      'task_run.task_id',
      'task_run.worker_id',
      'worker.name as worker_name',
      'task_run.started_at',
      'task_run.finished_at',
      'task_run.outcome',
    ])
    .where('task_run.job_id', '=', jobId)
    .orderBy(sql`coalesce(task_run.started_at, task_run.finished_at)`, 'desc')
    .limit(limit)
    .execute();
  return rows.reverse();
}

/** Per job with runs: the first start and the last end. */
export async function fetchJobTimings(
  db: Db,
): Promise<Array<{ job_id: string; started_at: Date | null; last_finished_at: Date | null }>> {
  return db
    .selectFrom('task_run')
    .innerJoin('job', 'job.id', 'task_run.job_id')
    .select([
      'task_run.job_id',
      sql<Date | null>`min(task_run.started_at)`.as('started_at'),
      sql<Date | null>`max(task_run.finished_at)`.as('last_finished_at'),
    ])
    .groupBy('task_run.job_id')
    .execute();
}

export async function deleteJobRuns(db: Db, jobId: string): Promise<void> {
  await db.deleteFrom('task_run').where('job_id', '=', jobId).execute();
}

export interface LoadNow {
  busy_workers: number;
  awake_workers: number;
  queued_tasks: number;
  active_tasks: number;
}

/** The farm's load now, from the jobs' task counters and the active-task index. */
export async function measureLoad(db: Db): Promise<LoadNow> {
  const result = await sql<LoadNow>`
    SELECT
      (SELECT count(DISTINCT worker_id) FROM task WHERE status = 'active')::int AS busy_workers,
      (SELECT count(*) FROM worker WHERE status = 'awake')::int AS awake_workers,
      (SELECT coalesce(sum(count_queued + count_soft_failed), 0) FROM job)::int AS queued_tasks,
      (SELECT coalesce(sum(count_active), 0) FROM job)::int AS active_tasks`.execute(db);
  const row = result.rows[0];
  if (!row) throw new Error('the load query returned no row');
  return row;
}

export async function insertSample(db: Db, at: Date, load: LoadNow): Promise<void> {
  await db
    .insertInto('farm_sample')
    .values({ at, ...load })
    .execute();
}

/** Samples older than `before` go (the history is kept for a week). */
export async function pruneHistory(db: Db, before: Date): Promise<void> {
  await db.deleteFrom('farm_sample').where('at', '<', before).execute();
}

export async function fetchSamples(db: Db, since: Date): Promise<Array<LoadNow & { at: Date }>> {
  return db.selectFrom('farm_sample').selectAll().where('at', '>=', since).orderBy('at').execute();
}

/** Runs that ended per minute since `since`: completed, and failed or soft-failed. */
export async function fetchFinishedPerMinute(
  db: Db,
  since: Date,
): Promise<Array<{ minute: Date; completed: number; failed: number }>> {
  const result = await sql<{ minute: Date; completed: number; failed: number }>`
    SELECT date_trunc('minute', finished_at) AS minute,
           count(*) FILTER (WHERE outcome = 'completed')::int AS completed,
           count(*) FILTER (WHERE outcome IN ('failed', 'soft-failed'))::int AS failed
    FROM task_run WHERE finished_at >= ${since}
    GROUP BY 1 ORDER BY 1`.execute(db);
  return result.rows;
}

/** Counts by status of jobs, tasks (from the jobs' counters) and workers. */
export async function fetchFarmCounts(db: Db): Promise<{
  jobs: Array<{ status: string; n: number }>;
  tasks: Record<string, number>;
  workers: Array<{ status: string; n: number }>;
}> {
  const [jobs, tasks, workers] = await Promise.all([
    sql<{ status: string; n: number }>`SELECT status, count(*)::int AS n FROM job GROUP BY status`.execute(db),
    sql<Record<string, number>>`
      SELECT coalesce(sum(count_queued), 0)::int AS queued, coalesce(sum(count_active), 0)::int AS active,
             coalesce(sum(count_soft_failed), 0)::int AS "soft-failed", coalesce(sum(count_failed), 0)::int AS failed,
             coalesce(sum(count_completed), 0)::int AS completed, coalesce(sum(count_canceled), 0)::int AS canceled,
             coalesce(sum(count_paused), 0)::int AS paused
      FROM job`.execute(db),
    sql<{ status: string; n: number }>`SELECT status, count(*)::int AS n FROM worker GROUP BY status`.execute(db),
  ]);
  return { jobs: jobs.rows, tasks: tasks.rows[0] ?? {}, workers: workers.rows };
}
