import { randomUUID } from 'node:crypto';
import { DEFAULT_PRIORITY, type JobTypeRegistry, type CompiledTask } from '../../jobs/index.js';
import { UserError } from '../../util/errors.js';
import type { SubmitJob } from '../../contract/index.js';
import type { EventBus } from '../events/bus.js';
import type { TaskLogs } from '../logs/task-logs.js';
import type { FailurePolicy } from '../state/job-status.js';
import { assertActionAllowed, jobStatusAfterAction, JOB_ACTION_FROM, type JobAction } from '../state/actions.js';
import { ConflictError } from '../persistence/errors.js';
import {
  insertJobWithTasks,
  fetchJob,
  listJobs,
  moveJob,
  setJobPriority,
  deleteJob,
  type JobFilter,
} from '../persistence/jobs.js';
import { analyzeTasks, dependenciesOf, pageTasksOfJob, type Page } from '../persistence/tasks.js';
import { blocklistOf, removeFromBlocklist, type BlocklistEntry } from '../persistence/workers.js';
import type { Db } from '../persistence/schema/database.js';
import { updateTasks } from '../persistence/task-changes.js';
import { withTransaction } from '../persistence/transaction.js';
import type { JobRow, TaskRow } from '../persistence/schema/tables.js';
import { syncJobs, mergeSync, requeueJob, type SyncResult } from './job-sync.js';
import { publishSync } from './publish.js';

export interface JobServiceDeps {
  db: Db;
  bus: EventBus;
  logs: TaskLogs;
  registry: JobTypeRegistry;
  policy: FailurePolicy;
  onWorkReady: () => void;
  /** Removes a job's copied or checked-out files (set by shared storage). */
  onJobDeleted?: (job: JobRow) => Promise<void>;
}

export class EtagMismatchError extends Error {
  constructor(readonly current: string) {
    super('the job type changed since the submitter read it; fetch it again and resubmit');
  }
}

/** The job actions that change its status (POST /jobs/:id/status). */
export type StatusAction = Exclude<JobAction, 'delete' | 'priority'>;

const PAST: Record<StatusAction, string> = {
  pause: 'paused',
  resume: 'resumed',
  cancel: 'canceled',
  requeue: 'requeued',
};

const ANALYZE_AFTER_TASKS = 5_000;

export class JobService {
  /** Job names and types never change: remembered (from the submit, else the first lookup). */
  readonly #names = new Map<string, { name: string; type: string }>();

  constructor(private readonly deps: JobServiceDeps) {}

  /** A job's name and type, for every task handed out; a database read only on a miss. */
  async nameAndType(id: string): Promise<{ name: string; type: string }> {
    const known = this.#names.get(id);
    if (known) return known;
    const row = await fetchJob(this.deps.db, id);
    return this.#remember(id, row.name, row.type);
  }

  #remember(id: string, name: string, type: string): { name: string; type: string } {
    if (this.#names.size >= 10_000) this.#names.clear();
    const entry = { name, type };
    this.#names.set(id, entry);
    return entry;
  }

  get(id: string): Promise<JobRow> {
    return fetchJob(this.deps.db, id);
  }

  /** One page of jobs, newest first, and how many match. */
  list(filter: JobFilter): Promise<{ rows: JobRow[]; total: number }> {
    return listJobs(this.deps.db, filter);
  }

  /** One page of a job's tasks in index order, each with the tasks it depends on. */
  async tasks(id: string, page: Page): Promise<{ tasks: Array<{ row: TaskRow; dependsOn: string[] }>; total: number }> {
    await fetchJob(this.deps.db, id);
    const { rows, total } = await pageTasksOfJob(this.deps.db, id, page);
    const deps = await dependenciesOf(
      this.deps.db,
      rows.map((row) => row.id),
    );
    return { tasks: rows.map((row) => ({ row, dependsOn: deps.get(row.id) ?? [] })), total };
  }

  /** Validates and compiles a submission without storing it. */
  compile(
    submission: SubmitJob,
    id = randomUUID(),
  ): { tasks: CompiledTask[]; settings: Record<string, unknown>; etag: string } {
    const { registry } = this.deps;
    const type = registry.require(submission.type);
    const etag = registry.etag(type.name);
    if (submission.typeEtag !== undefined && submission.typeEtag !== etag) throw new EtagMismatchError(etag);
    const validated = registry.validateSettings(type, submission.settings ?? {});
    if (!validated.ok) throw validated.error;
    const tasks = registry.compile({
      id,
      name: submission.name,
      type: type.name,
      priority: submission.priority ?? DEFAULT_PRIORITY,
      settings: validated.settings,
      frames: submission.frames,
      chunkSize: submission.chunkSize,
      storage: submission.storage as { effectivePath?: string } | undefined,
    });
    if (tasks.length === 0) throw new UserError('the job compiles to no tasks', { field: 'frames', code: 'empty_job' });
    return { tasks, settings: validated.settings, etag };
  }

  async submit(submission: SubmitJob): Promise<JobRow> {
    const id = randomUUID();
    const { tasks, settings, etag } = this.compile(submission, id);
    const row = await withTransaction(this.deps.db, (trx) =>
      insertJobWithTasks(
        trx,
        {
          id,
          name: submission.name,
          type: submission.type,
          typeEtag: etag,
          priority: submission.priority ?? DEFAULT_PRIORITY,
          settings,
          metadata: submission.metadata ?? {},
          tag: submission.tag ?? null,
          frames: submission.frames ?? null,
          chunkSize: submission.chunkSize ?? null,
          storage: submission.storage ?? null,
        },
        tasks,
      ),
    );
    this.#remember(id, row.name, row.type);
    this.deps.bus.publish({ type: 'job', jobId: id, status: row.status, change: 'submitted' });
    this.deps.onWorkReady();
    // A large job changes the task table's shape at once; fresh statistics keep the scheduler's
    // pick on its ordered index (without them the planner sorts every ready task).
    if (tasks.length >= ANALYZE_AFTER_TASKS) void analyzeTasks(this.deps.db).catch(() => undefined);
    return row;
  }

  /**
   * A user's action on a job, checked against JOB_ACTION_FROM. Pause lets running tasks
   * finish (the job is pause-requested until they end) unless `now` is set, which stops them
   * at once: their workers hear it at their next "may I keep running?".
   */
  async act(id: string, action: StatusAction, options: { reason?: string; now?: boolean } = {}): Promise<JobRow> {
    const sync = await withTransaction(this.deps.db, async (trx) => {
      const job = await fetchJob(trx, id, { forUpdate: true });
      assertActionAllowed(JOB_ACTION_FROM, 'job', action, job.status);
      const note = options.reason ? `: ${options.reason}` : '';
      const result: SyncResult = { jobs: [], tasks: [] };
      if (action === 'requeue')
        return mergeSync(
          mergeSync(result, await requeueJob(trx, job, `requeued${note}`)),
          await syncJobs(trx, [id], this.deps.policy),
        );
      if (action === 'pause') {
        result.tasks.push(
          ...(await updateTasks(trx, { jobId: id, statuses: ['queued', 'soft-failed'] }, { status: 'paused' })),
        );
        if (options.now) {
          result.tasks.push(
            ...(await updateTasks(
              trx,
              { jobId: id, statuses: ['active'] },
              { status: 'paused', workerId: null, clearTouch: true, activity: 'paused with its job (stopped at once)' },
            )),
          );
        }
      } else if (action === 'cancel') {
        result.tasks.push(
          ...(await updateTasks(
            trx,
            { jobId: id, statuses: ['queued', 'soft-failed', 'paused'] },
            { status: 'canceled' },
          )),
        );
      } else {
        result.tasks.push(...(await updateTasks(trx, { jobId: id, statuses: ['paused'] }, { status: 'queued' })));
      }
      const stillRunning = job.count_active - result.tasks.filter((t) => t.from === 'active').length;
      const to = jobStatusAfterAction(action, { active: stillRunning }, options);
      const activity = `${PAST[action]}${options.now ? ' (running tasks stopped)' : ''}${note}`;
      await moveJob(trx, id, job.status, to, activity);
      result.jobs.push({ jobId: id, from: job.status, to, activity });
      return mergeSync(result, await syncJobs(trx, [id], this.deps.policy));
    });
    publishSync(this.deps.bus, sync);
    this.deps.onWorkReady();
    return fetchJob(this.deps.db, id);
  }

  async setPriority(id: string, priority: number): Promise<JobRow> {
    await withTransaction(this.deps.db, async (trx) => {
      const job = await fetchJob(trx, id, { forUpdate: true });
      assertActionAllowed(JOB_ACTION_FROM, 'job', 'priority', job.status);
      await setJobPriority(trx, id, priority);
    });
    this.deps.bus.publish({ type: 'job', jobId: id, status: 'priority', change: `priority ${priority}` });
    this.deps.onWorkReady();
    return fetchJob(this.deps.db, id);
  }

  /** The workers a job will not give tasks of a type to, after they failed too many of them. */
  async blocklist(id: string): Promise<BlocklistEntry[]> {
    await fetchJob(this.deps.db, id);
    return blocklistOf(this.deps.db, id);
  }

  /** Takes a worker off a job's blocklist (one task type, or all): it may get the job's tasks again. */
  async unblock(id: string, workerId: string, taskType?: string): Promise<BlocklistEntry[]> {
    await withTransaction(this.deps.db, async (trx) => {
      const job = await fetchJob(trx, id, { forUpdate: true });
      const removed = await removeFromBlocklist(trx, job.id, workerId, taskType);
      if (removed === 0) {
        throw new UserError(
          `worker ${workerId} is not on job ${id}'s blocklist${taskType ? ` for ${taskType} tasks` : ''}`,
          { field: 'workerId', code: 'not_blocklisted' },
        );
      }
    });
    this.deps.bus.publish({
      type: 'job',
      jobId: id,
      status: 'blocklist',
      change: `worker ${workerId} taken off the blocklist`,
    });
    this.deps.onWorkReady();
    return blocklistOf(this.deps.db, id);
  }

  async delete(id: string): Promise<void> {
    const job = await withTransaction(this.deps.db, async (trx) => {
      const row = await fetchJob(trx, id, { forUpdate: true });
      assertActionAllowed(JOB_ACTION_FROM, 'job', 'delete', row.status);
      // A canceled or paused job may still wait for a task its worker is stopping.
      if (row.count_active > 0)
        throw new ConflictError(`job ${id} has ${row.count_active} active tasks; wait for them to stop`, 'job_active');
      await deleteJob(trx, id);
      return row;
    });
    this.#names.delete(id);
    await this.deps.logs.removeJob(id);
    await this.deps.onJobDeleted?.(job);
    this.deps.bus.publish({ type: 'job', jobId: id, status: 'deleted', change: 'deleted' });
  }
}
