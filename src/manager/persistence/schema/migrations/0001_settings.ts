import { sql, type Kysely } from 'kysely';

/** Installation-wide settings (the farm secret and the like), one JSON value per key. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('kiln_setting')
    .addColumn('key', 'text', (col) => col.primaryKey())
    .addColumn('value', 'jsonb', (col) => col.notNull())
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('kiln_setting').execute();
}
