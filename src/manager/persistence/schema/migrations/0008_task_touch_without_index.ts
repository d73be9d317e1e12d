import { sql, type Kysely } from 'kysely';

/**
 * A running task's progress report (every few seconds per worker) only stamps last_touched_at.
 * With that column indexed, every such update wrote new entries into all of the task's indexes;
 * without the index, and with room left on each page (fillfactor), it is a heap-only (HOT)
 * update. The timeout sweep finds stale tasks through task_active instead: active tasks are at
 * most one per worker. A task handed out writes one index entry fewer, too.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX task_touched`.execute(db);
  await sql`ALTER TABLE task SET (fillfactor = 80)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE task RESET (fillfactor)`.execute(db);
  await sql`CREATE INDEX task_touched ON task (last_touched_at) WHERE status = 'active'`.execute(db);
}
