import { sql, type Kysely } from 'kysely';

/**
 * The farm's history for the dashboard: one row per run of a task on a worker (its durations,
 * attempts and per-worker timeline), and a periodic sample of the farm's load (the plots).
 * Neither references job, task or worker: a run outlives a deleted worker's row, and writes are
 * batched off the dispatch path, so a row must never fail its batch over a key that just went.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE TABLE task_run (
    id uuid PRIMARY KEY,
    task_id uuid NOT NULL,
    job_id uuid NOT NULL,
    worker_id uuid,
    started_at timestamptz,
    finished_at timestamptz,
    outcome text NOT NULL
  )`.execute(db);
  await sql`CREATE INDEX task_run_job ON task_run (job_id)`.execute(db);
  await sql`CREATE INDEX task_run_finished ON task_run (finished_at)`.execute(db);
  await sql`CREATE TABLE farm_sample (
    at timestamptz NOT NULL,
    busy_workers integer NOT NULL,
    awake_workers integer NOT NULL,
    queued_tasks integer NOT NULL,
    active_tasks integer NOT NULL
  )`.execute(db);
  await sql`CREATE INDEX farm_sample_at ON farm_sample (at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE farm_sample`.execute(db);
  await sql`DROP TABLE task_run`.execute(db);
}
