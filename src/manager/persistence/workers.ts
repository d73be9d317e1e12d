import { sql } from 'kysely';
import type { WorkerStatus } from '../state/statuses.js';
import type { WorkerRow, SleepSchedule } from './schema/tables.js';
import { NotFoundError } from './errors.js';
import { assertWorkerTransition, InvalidTransitionError } from '../state/transitions.js';
import type { Db, Trx } from './schema/database.js';

export async function fetchWorker(db: Db | Trx, id: string): Promise<WorkerRow> {
  const row = await db.selectFrom('worker').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError('worker', id);
  return row;
}

/** What a task request needs of its worker: fetchWorkersWithHeldTasks reads only these columns. */
export type RequestingWorker = Pick<
  WorkerRow,
  'id' | 'name' | 'platform' | 'status' | 'status_requested' | 'lazy_status_request' | 'supported_task_types' | 'tags'
>;

export interface WorkerWithHeldTask {
  worker: RequestingWorker;
  /** The active task the worker holds, if any. */
  heldTaskId: string | undefined;
}

/** A worker's name, for log lines; undefined once it is deleted. */
export async function fetchWorkerName(db: Db | Trx, id: string): Promise<string | undefined> {
  const row = await db.selectFrom('worker').select('name').where('id', '=', id).executeTakeFirst();
  return row?.name;
}

/**
 * Workers and the id of the active task each holds (if any), in one round trip; unknown ids are
 * absent. Only the id: every task request starts here, and the task itself is needed only when a
 * worker asks again for the task it holds.
 */
export async function fetchWorkersWithHeldTasks(db: Db | Trx, ids: string[]): Promise<Map<string, WorkerWithHeldTask>> {
  const { rows } = await sql<RequestingWorker & { held_task_id: string | null }>`/* prepared */
    SELECT w.id, w.name, w.platform, w.status, w.status_requested, w.lazy_status_request, w.supported_task_types, w.tags,
           (SELECT t.id FROM task t WHERE t.worker_id = w.id AND t.status = 'active' LIMIT 1) AS held_task_id
    FROM worker w WHERE w.id = ANY(${ids}::uuid[])`.execute(db);
  const found = new Map<string, WorkerWithHeldTask>();
  for (const { held_task_id, ...worker } of rows)
    found.set(worker.id, { worker, heldTaskId: held_task_id ?? undefined });
  return found;
}

/** The hash of a worker's token; undefined for an unknown worker. */
export async function fetchWorkerSecretHash(db: Db, id: string): Promise<string | undefined> {
  const row = await db.selectFrom('worker').select('secret_hash').where('id', '=', id).executeTakeFirst();
  return row?.secret_hash;
}

/** One page of the workers by name, and how many there are (the API never sends them all at once). */
export async function pageWorkers(
  db: Db,
  page: { limit: number; offset: number },
): Promise<{ rows: WorkerRow[]; total: number }> {
  const [rows, total] = await Promise.all([
    db.selectFrom('worker').selectAll().orderBy('name').orderBy('id').limit(page.limit).offset(page.offset).execute(),
    db
      .selectFrom('worker')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(total.n) };
}

export async function insertWorker(
  db: Db,
  worker: {
    id: string;
    name: string;
    secretHash: string;
    platform: string;
    supportedTaskTypes: string[];
    tags: string[];
  },
): Promise<void> {
  await db
    .insertInto('worker')
    .values({
      id: worker.id,
      name: worker.name,
      secret_hash: worker.secretHash,
      platform: worker.platform,
      supported_task_types: worker.supportedTaskTypes,
      tags: worker.tags,
      status: 'offline',
    })
    .execute();
}

type WorkerFields = Partial<{
  name: string;
  platform: string;
  supportedTaskTypes: string[];
  tags: string[];
  tagsSetByUser: boolean;
  statusRequested: WorkerStatus | null;
  lazy: boolean;
  address: string;
  softwareVersion: string;
  sleepSchedule: SleepSchedule | null;
  /** The worker was heard from at this time. */
  seenAt: Date;
}>;

function workerValues(set: WorkerFields): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  if (set.name !== undefined) values.name = set.name;
  if (set.platform !== undefined) values.platform = set.platform;
  if (set.supportedTaskTypes !== undefined) values.supported_task_types = set.supportedTaskTypes;
  if (set.tags !== undefined) values.tags = set.tags;
  if (set.tagsSetByUser !== undefined) values.tags_set_by_user = set.tagsSetByUser;
  if (set.statusRequested !== undefined) values.status_requested = set.statusRequested;
  if (set.lazy !== undefined) values.lazy_status_request = set.lazy;
  if (set.address !== undefined) values.address = set.address;
  if (set.softwareVersion !== undefined) values.software_version = set.softwareVersion;
  if (set.sleepSchedule !== undefined)
    values.sleep_schedule = set.sleepSchedule === null ? null : JSON.stringify(set.sleepSchedule);
  if (set.seenAt) values.last_seen_at = set.seenAt;
  return values;
}

/** Changes a worker's fields other than its status (moveWorker changes that). */
export async function updateWorker(db: Db | Trx, id: string, set: WorkerFields): Promise<void> {
  const values = workerValues(set);
  if (Object.keys(values).length === 0) return;
  const result = await db
    .updateTable('worker')
    .set(values as never)
    .where('id', '=', id)
    .executeTakeFirst();
  if (result.numUpdatedRows === 0n) throw new NotFoundError('worker', id);
}

/**
 * The one way a worker's status changes: from the status the caller read to one the
 * transition table allows, with other fields in the same statement. A worker whose status
 * changed meanwhile is refused, not overwritten.
 */
export async function moveWorker(
  db: Db | Trx,
  id: string,
  from: WorkerStatus,
  to: WorkerStatus,
  set: WorkerFields = {},
): Promise<void> {
  assertWorkerTransition(from, to);
  const values = { ...workerValues(set), status: to };
  const result = await db
    .updateTable('worker')
    .set(values as never)
    .where('id', '=', id)
    .where('status', '=', from)
    .executeTakeFirst();
  if (result.numUpdatedRows === 0n) {
    await fetchWorker(db, id);
    throw new InvalidTransitionError(`worker ${id} is no longer ${from}`);
  }
}

/** Marks many workers as seen at once (heartbeats are batched). */
export async function touchWorkers(db: Db, ids: string[], at: Date): Promise<void> {
  if (ids.length) await db.updateTable('worker').set({ last_seen_at: at }).where('id', 'in', ids).execute();
}

export async function deleteWorker(db: Db | Trx, id: string): Promise<void> {
  const result = await db.deleteFrom('worker').where('id', '=', id).executeTakeFirst();
  if (result.numDeletedRows === 0n) throw new NotFoundError('worker', id);
}

/** Signed-on workers that have a sleep schedule. */
export async function listScheduledWorkers(db: Db): Promise<WorkerRow[]> {
  return db
    .selectFrom('worker')
    .selectAll()
    .where('sleep_schedule', 'is not', null)
    .where('status', 'in', ['awake', 'asleep'])
    .execute();
}

/** Awake or asleep workers not heard from since `cutoff`. */
export async function workersUnseenSince(db: Db, cutoff: Date): Promise<WorkerRow[]> {
  return db
    .selectFrom('worker')
    .selectAll()
    .where('status', 'in', ['awake', 'asleep'])
    .where('last_seen_at', '<', cutoff)
    .execute();
}

export async function addToBlocklist(trx: Trx, jobId: string, workerId: string, taskType: string): Promise<void> {
  await trx
    .insertInto('job_blocklist')
    .values({ job_id: jobId, worker_id: workerId, task_type: taskType })
    .onConflict((oc) => oc.doNothing())
    .execute();
}

export async function clearBlocklist(trx: Trx, jobId: string): Promise<void> {
  await trx.deleteFrom('job_blocklist').where('job_id', '=', jobId).execute();
}

export interface BlocklistEntry {
  workerId: string;
  workerName: string;
  taskType: string;
  since: Date;
}

/** A job's blocklist with each worker's name, oldest entry first. */
export async function blocklistOf(db: Db | Trx, jobId: string): Promise<BlocklistEntry[]> {
  const rows = await db
    .selectFrom('job_blocklist as b')
    .innerJoin('worker as w', 'w.id', 'b.worker_id')
    .select(['b.worker_id', 'w.name', 'b.task_type', 'b.created_at'])
    .where('b.job_id', '=', jobId)
    .orderBy('b.created_at')
    .orderBy('w.name')
    .execute();
  return rows.map((row) => ({
    workerId: row.worker_id,
    workerName: row.name,
    taskType: row.task_type,
    since: row.created_at,
  }));
}

/** Takes a worker off a job's blocklist (for one task type, or all); returns how many entries went. */
export async function removeFromBlocklist(
  trx: Trx,
  jobId: string,
  workerId: string,
  taskType?: string,
): Promise<number> {
  let query = trx.deleteFrom('job_blocklist').where('job_id', '=', jobId).where('worker_id', '=', workerId);
  if (taskType !== undefined) query = query.where('task_type', '=', taskType);
  const result = await query.executeTakeFirst();
  return Number(result.numDeletedRows);
}

/**
 * Workers that could still run tasks of this type for this job (not blocklisted, right type and
 * tag), leaving out `excluded` (e.g. the workers that already failed one task).
 */
export async function countCapableWorkers(
  trx: Trx,
  jobId: string,
  taskType: string,
  jobTag: string | null,
  excluded: readonly string[] = [],
): Promise<number> {
  const row = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM worker w
    WHERE ${taskType} = ANY(w.supported_task_types)
      AND (${jobTag}::text IS NULL OR ${jobTag}::text = ANY(w.tags))
      AND NOT (w.id = ANY(${[...excluded]}::uuid[]))
      AND NOT EXISTS (SELECT 1 FROM job_blocklist b WHERE b.job_id = ${jobId} AND b.worker_id = w.id AND b.task_type = ${taskType})`.execute(
    trx,
  );
  return row.rows[0]?.n ?? 0;
}
