import { sql } from 'kysely';
import { timeOrderedUuids } from '../../util/ids.js';
import { DEFAULT_PRIORITY, type CompiledTask } from '../../jobs/index.js';
import type { JobStatus } from '../state/statuses.js';
import { assertJobTransition, InvalidTransitionError } from '../state/transitions.js';
import type { JobRow } from './schema/tables.js';
import { NotFoundError } from './errors.js';
import type { Db, Trx } from './schema/database.js';

export interface NewJob {
  id: string;
  name: string;
  type: string;
  typeEtag: string;
  priority: number;
  settings: Record<string, unknown>;
  metadata: Record<string, unknown>;
  tag: string | null;
  frames: string | null;
  chunkSize: number | null;
  storage: Record<string, unknown> | null;
}

/**
 * Stores a job and its compiled tasks in one transaction; a 100,000-task job is a handful
 * of statements.
 */
const BATCH = 10_000;

export async function insertJobWithTasks(trx: Trx, job: NewJob, tasks: CompiledTask[]): Promise<JobRow> {
  const inserted = await trx
    .insertInto('job')
    .values({
      id: job.id,
      name: job.name,
      type: job.type,
      type_etag: job.typeEtag,
      priority: job.priority,
      status: 'queued',
      settings: JSON.stringify(job.settings),
      metadata: JSON.stringify(job.metadata),
      tag: job.tag,
      frames: job.frames,
      chunk_size: job.chunkSize,
      storage: job.storage ? JSON.stringify(job.storage) : null,
      task_count: tasks.length,
      count_queued: tasks.length,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  const ids = timeOrderedUuids(tasks.length);
  // The rows travel as one JSON document per batch: building and parsing it costs a fraction
  // of binding a dozen parameter arrays of 100,000 elements each. The next batch's document is
  // built while the server stores the previous one.
  let storing: Promise<unknown> | undefined;
  for (let start = 0; start < tasks.length; start += BATCH) {
    const rows = JSON.stringify(
      tasks.slice(start, start + BATCH).map((task, i) => ({
        id: ids[start + i],
        idx: start + i,
        name: task.name,
        type: task.type,
        priority: task.priority ?? DEFAULT_PRIORITY,
        commands: task.commands,
        deps: task.dependsOn.length,
      })),
    );
    await storing;
    storing = sql`
      INSERT INTO task (id, job_id, idx, name, type, priority, status, commands, pending_deps, job_priority, job_created_at, job_tag)
      SELECT t.id, ${job.id}::uuid, t.idx, t.name, t.type, t.priority, 'queued', t.commands, t.deps,
             ${job.priority}::int, ${inserted.created_at}::timestamptz, ${job.tag}::text
      FROM json_to_recordset(${rows}::json) AS t(id uuid, idx int, name text, type text, priority int, commands json, deps int)`.execute(
      trx,
    );
  }
  await storing;
  const idOf = (index: number): string => {
    const id = ids[index];
    if (id === undefined) throw new Error(`task index ${index} is outside the job's ${tasks.length} tasks`);
    return id;
  };
  const edges: Array<[string, string]> = [];
  for (const [index, task] of tasks.entries()) {
    for (const dependency of new Set(task.dependsOn)) edges.push([idOf(index), idOf(dependency)]);
  }
  for (let start = 0; start < edges.length; start += BATCH) {
    const slice = edges.slice(start, start + BATCH);
    await sql`INSERT INTO task_dependency (task_id, depends_on)
              SELECT * FROM unnest(${slice.map((e) => e[0])}::uuid[], ${slice.map((e) => e[1])}::uuid[])`.execute(trx);
  }
  return inserted;
}

export async function fetchJob(db: Db | Trx, id: string, options: { forUpdate?: boolean } = {}): Promise<JobRow> {
  let query = db.selectFrom('job').selectAll().where('id', '=', id);
  if (options.forUpdate) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  if (!row) throw new NotFoundError('job', id);
  return row;
}

export interface JobFilter {
  statuses?: string[];
  type?: string;
  tag?: string;
  limit: number;
  offset: number;
}

/** Only a job's worker tag: what the failure policy needs, without its settings. */
export async function fetchJobTag(db: Db | Trx, id: string): Promise<string | null> {
  const row = await db.selectFrom('job').select('tag').where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError('job', id);
  return row.tag;
}

export async function listJobs(db: Db, filter: JobFilter): Promise<{ rows: JobRow[]; total: number }> {
  let query = db.selectFrom('job');
  if (filter.statuses?.length) query = query.where('status', 'in', filter.statuses as JobStatus[]);
  if (filter.type) query = query.where('type', '=', filter.type);
  if (filter.tag) query = query.where('tag', '=', filter.tag);
  const [rows, total] = await Promise.all([
    query.selectAll().orderBy('created_at', 'desc').orderBy('id').limit(filter.limit).offset(filter.offset).execute(),
    query.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(total.n) };
}

/**
 * The one way a job's status changes: from the status the caller read (and locked) to one
 * the transition table allows. A job that moved meanwhile is refused, not overwritten.
 */
export async function moveJob(trx: Trx, id: string, from: JobStatus, to: JobStatus, activity?: string): Promise<void> {
  assertJobTransition(from, to);
  const result = await trx
    .updateTable('job')
    .set({ status: to, updated_at: sql`now()`, ...(activity !== undefined ? { activity } : {}) } as never)
    .where('id', '=', id)
    .where('status', '=', from)
    .executeTakeFirst();
  if (result.numUpdatedRows === 0n) throw new InvalidTransitionError(`job ${id} is no longer ${from}`);
}

/** Changes a job's priority, and the copy of it every task keeps for the scheduler. */
export async function setJobPriority(trx: Trx, id: string, priority: number): Promise<void> {
  await trx
    .updateTable('job')
    .set({ priority, updated_at: sql`now()` } as never)
    .where('id', '=', id)
    .execute();
  await trx.updateTable('task').set({ job_priority: priority }).where('job_id', '=', id).execute();
}

export async function deleteJob(trx: Trx, id: string): Promise<void> {
  await trx.deleteFrom('job').where('id', '=', id).execute();
}
