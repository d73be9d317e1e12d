import type { Kysely } from 'kysely';

/**
 * The sequence number of the last worker update applied to each task: a worker replaying its
 * on-disk queue after an outage sends some updates twice, and they must apply once.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('task').addColumn('last_update_seq', 'bigint').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('task').dropColumn('last_update_seq').execute();
}
