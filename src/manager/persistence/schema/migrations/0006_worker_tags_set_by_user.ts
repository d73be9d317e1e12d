import { sql, type Kysely } from 'kysely';

/**
 * Tags a user set (API, `kiln workers tag`) belong to the farm, not to the worker's own
 * configuration: once set, a worker signing on again keeps them instead of sending its own.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE worker ADD COLUMN tags_set_by_user boolean NOT NULL DEFAULT false`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE worker DROP COLUMN tags_set_by_user`.execute(db);
}
