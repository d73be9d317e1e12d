import { sql, type Kysely } from 'kysely';

/**
 * task.job_id was a foreign key, which PostgreSQL checks with one query per inserted row:
 * about 10 µs each, a second of every 100,000-task submit. The same guarantee, set-based:
 * one check per INSERT statement over all its rows (locking the jobs as the foreign key did,
 * so a job cannot vanish under its tasks), and one delete of a deleted job's tasks per DELETE
 * statement. Tasks never move between jobs (the store never updates job_id).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE task DROP CONSTRAINT task_job_id_fkey`.execute(db);
  await sql`
    CREATE FUNCTION kiln_tasks_have_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM 1 FROM job j JOIN (SELECT DISTINCT job_id FROM new_tasks) n ON n.job_id = j.id FOR KEY SHARE OF j;
      IF EXISTS (SELECT 1 FROM new_tasks n WHERE NOT EXISTS (SELECT 1 FROM job j WHERE j.id = n.job_id)) THEN
        RAISE EXCEPTION 'insert on table "task" violates its job reference: no such job'
          USING ERRCODE = 'foreign_key_violation', TABLE = 'task', CONSTRAINT = 'task_job_id_check';
      END IF;
      RETURN NULL;
    END $$`.execute(db);
  await sql`
    CREATE TRIGGER task_job_id_check AFTER INSERT ON task
    REFERENCING NEW TABLE AS new_tasks FOR EACH STATEMENT EXECUTE FUNCTION kiln_tasks_have_jobs()`.execute(db);
  await sql`
    CREATE FUNCTION kiln_delete_tasks_of_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      DELETE FROM task WHERE job_id IN (SELECT id FROM old_jobs);
      RETURN NULL;
    END $$`.execute(db);
  await sql`
    CREATE TRIGGER job_delete_tasks AFTER DELETE ON job
    REFERENCING OLD TABLE AS old_jobs FOR EACH STATEMENT EXECUTE FUNCTION kiln_delete_tasks_of_jobs()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TRIGGER job_delete_tasks ON job`.execute(db);
  await sql`DROP FUNCTION kiln_delete_tasks_of_jobs()`.execute(db);
  await sql`DROP TRIGGER task_job_id_check ON task`.execute(db);
  await sql`DROP FUNCTION kiln_tasks_have_jobs()`.execute(db);
  await sql`DELETE FROM task t WHERE NOT EXISTS (SELECT 1 FROM job j WHERE j.id = t.job_id)`.execute(db);
  await sql`ALTER TABLE task ADD CONSTRAINT task_job_id_fkey FOREIGN KEY (job_id) REFERENCES job(id) ON DELETE CASCADE`.execute(
    db,
  );
}
