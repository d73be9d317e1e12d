import { sql, type Kysely } from 'kysely';

/**
 * The farm: jobs, their tasks and dependencies, workers, and per-job blocklists.
 * Tasks carry copies of their job's priority, age and tag so that the scheduler's pick
 * is one ordered index scan, with no join, even with 100,000 tasks queued.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await createJob(db);
  await createWorker(db);
  await createTask(db);
  await createTaskDependency(db);
  await createJobBlocklist(db);
}

/** Jobs, with their counts of tasks by status. */
async function createJob(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('job')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('type', 'text', (col) => col.notNull())
    .addColumn('type_etag', 'text', (col) => col.notNull())
    .addColumn('priority', 'integer', (col) => col.notNull())
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('activity', 'text', (col) => col.notNull().defaultTo(''))
    .addColumn('settings', 'jsonb', (col) => col.notNull())
    .addColumn('metadata', 'jsonb', (col) => col.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('tag', 'text')
    .addColumn('frames', 'text')
    .addColumn('chunk_size', 'integer')
    .addColumn('storage', 'jsonb')
    .addColumn('task_count', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('count_queued', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('count_active', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('count_soft_failed', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('count_failed', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('count_completed', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('count_canceled', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('count_paused', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('job_status_created').on('job').columns(['status', 'created_at']).execute();
}

/** Workers. */
async function createWorker(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('worker')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('secret_hash', 'text', (col) => col.notNull())
    .addColumn('platform', 'text', (col) => col.notNull())
    .addColumn('supported_task_types', sql`text[]`, (col) => col.notNull().defaultTo(sql`'{}'`))
    .addColumn('tags', sql`text[]`, (col) => col.notNull().defaultTo(sql`'{}'`))
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('status_requested', 'text')
    .addColumn('lazy_status_request', 'boolean', (col) => col.notNull().defaultTo(false))
    .addColumn('address', 'text', (col) => col.notNull().defaultTo(''))
    .addColumn('software_version', 'text', (col) => col.notNull().defaultTo(''))
    .addColumn('sleep_schedule', 'jsonb')
    .addColumn('last_seen_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
}

/** Tasks, with the copies of their job's fields the scheduler orders by, and its indexes. */
async function createTask(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('task')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('job_id', 'uuid', (col) => col.notNull().references('job.id').onDelete('cascade'))
    .addColumn('idx', 'integer', (col) => col.notNull())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('type', 'text', (col) => col.notNull())
    .addColumn('priority', 'integer', (col) => col.notNull())
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('commands', 'jsonb', (col) => col.notNull())
    .addColumn('worker_id', 'uuid', (col) => col.references('worker.id').onDelete('set null'))
    .addColumn('activity', 'text', (col) => col.notNull().defaultTo(''))
    .addColumn('progress', 'real', (col) => col.notNull().defaultTo(0))
    .addColumn('failed_by_workers', sql`uuid[]`, (col) => col.notNull().defaultTo(sql`'{}'`))
    .addColumn('pending_deps', 'integer', (col) => col.notNull().defaultTo(0))
    // Copies of the job's fields the scheduler orders and filters by.
    .addColumn('job_priority', 'integer', (col) => col.notNull())
    .addColumn('job_created_at', 'timestamptz', (col) => col.notNull())
    .addColumn('job_tag', 'text')
    .addColumn('last_touched_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('task_job_idx').on('task').columns(['job_id', 'idx']).unique().execute();
  await sql`CREATE INDEX task_ready ON task (job_priority DESC, priority DESC, job_created_at, job_id, idx)
            WHERE status IN ('queued', 'soft-failed') AND pending_deps = 0`.execute(db);
  await sql`CREATE INDEX task_active ON task (worker_id) WHERE status = 'active'`.execute(db);
  await sql`CREATE INDEX task_touched ON task (last_touched_at) WHERE status = 'active'`.execute(db);
}

/** Which task waits for which, readable both ways. */
async function createTaskDependency(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('task_dependency')
    .addColumn('task_id', 'uuid', (col) => col.notNull().references('task.id').onDelete('cascade'))
    .addColumn('depends_on', 'uuid', (col) => col.notNull().references('task.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('task_dependency_pk', ['task_id', 'depends_on'])
    .execute();
  await db.schema.createIndex('task_dependency_reverse').on('task_dependency').column('depends_on').execute();
}

/** Workers barred from a job's tasks of one type. */
async function createJobBlocklist(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('job_blocklist')
    .addColumn('job_id', 'uuid', (col) => col.notNull().references('job.id').onDelete('cascade'))
    .addColumn('worker_id', 'uuid', (col) => col.notNull().references('worker.id').onDelete('cascade'))
    .addColumn('task_type', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('job_blocklist_pk', ['job_id', 'worker_id', 'task_type'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['job_blocklist', 'task_dependency', 'task', 'worker', 'job'])
    await db.schema.dropTable(table).execute();
}
