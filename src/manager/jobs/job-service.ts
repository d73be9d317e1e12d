import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { JobTypeRegistry, CompiledTask } from '../../jobs/index.js';
import { UserError } from '../../util/errors.js';
import type { SubmitJob } from '../api/schemas.js';
import type { EventBus } from '../events/bus.js';
import type { TaskLogs } from '../logs/task-logs.js';
import type { FailurePolicy } from '../state/job-status.js';
import { canJobTransition } from '../state/transitions.js';
import type { JobStatus } from '../state/statuses.js';
import { ConflictError } from '../persistence/errors.js';
import { insertJobWithTasks, fetchJob, setJobStatus, setJobPriority, deleteJob } from '../persistence/jobs.js';
import { recountPendingDependencies } from '../persistence/tasks.js';
import { clearBlocklist } from '../persistence/workers.js';
import { updateTasks, type Db, type Trx } from '../persistence/task-changes.js';
import { withTransaction } from '../persistence/transaction.js';
import type { JobRow } from '../persistence/tables.js';
import { syncJobs, mergeSync, type SyncResult } from './job-sync.js';
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

export type JobAction = 'pause' | 'resume' | 'cancel' | 'requeue';

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

  /** Validates and compiles a submission without storing it. */
  compile(submission: SubmitJob, id = randomUUID()): { tasks: CompiledTask[]; settings: Record<string, unknown>; etag: string } {
    const { registry } = this.deps;
    const type = registry.require(submission.type);
    const etag = registry.etag(type.name);
    if (submission.typeEtag !== undefined && submission.typeEtag !== etag) throw new EtagMismatchError(etag);
    const validated = registry.validateSettings(type, submission.settings ?? {});
    if (!validated.ok) throw validated.error;
    const tasks = registry.compile({
      id, name: submission.name, type: type.name, priority: submission.priority ?? 50, settings: validated.settings,
      frames: submission.frames, chunkSize: submission.chunkSize, storage: submission.storage as { effectivePath?: string } | undefined,
    });
    if (tasks.length === 0) throw new UserError('the job compiles to no tasks', { field: 'frames', code: 'empty_job' });
    return { tasks, settings: validated.settings, etag };
  }

  async submit(submission: SubmitJob): Promise<JobRow> {
    const id = randomUUID();
    const { tasks, settings, etag } = this.compile(submission, id);
    const row = await withTransaction(this.deps.db, (trx) =>
      insertJobWithTasks(trx, {
        id, name: submission.name, type: submission.type, typeEtag: etag, priority: submission.priority ?? 50, settings,
        metadata: submission.metadata ?? {}, tag: submission.tag ?? null, frames: submission.frames ?? null,
        chunkSize: submission.chunkSize ?? null, storage: submission.storage ?? null,
      }, tasks),
    );
    this.#remember(id, row.name, row.type);
    this.deps.bus.publish({ type: 'job', jobId: id, status: row.status, change: 'submitted' });
    this.deps.onWorkReady();
    // A large job changes the task table's shape at once; fresh statistics keep the scheduler's
    // pick on its ordered index (without them the planner sorts every ready task).
    if (tasks.length >= ANALYZE_AFTER_TASKS) void sql`ANALYZE task`.execute(this.deps.db).catch(() => undefined);
    return row;
  }

  async act(id: string, action: JobAction, reason?: string): Promise<JobRow> {
    const sync = await withTransaction(this.deps.db, async (trx) => {
      const job = await fetchJob(trx, id, { forUpdate: true });
      const result: SyncResult = { jobs: [], tasks: [] };
      const move = async (to: JobStatus, activity: string): Promise<void> => {
        if (!canJobTransition(job.status, to)) throw new ConflictError(`cannot ${action} a job that is ${job.status}`, 'invalid_transition');
        await setJobStatus(trx, id, to, activity);
        result.jobs.push({ jobId: id, from: job.status, to, activity });
      };
      const note = reason ? `: ${reason}` : '';
      if (action === 'pause') {
        result.tasks.push(...(await updateTasks(trx, { jobId: id, statuses: ['queued', 'soft-failed'] }, { status: 'paused' })));
        await move(job.count_active > 0 ? 'pause-requested' : 'paused', `paused${note}`);
      } else if (action === 'cancel') {
        result.tasks.push(...(await updateTasks(trx, { jobId: id, statuses: ['queued', 'soft-failed', 'paused'] }, { status: 'canceled' })));
        await move(job.count_active > 0 ? 'cancel-requested' : 'canceled', `canceled${note}`);
      } else if (action === 'resume') {
        if (job.status !== 'paused' && job.status !== 'pause-requested') throw new ConflictError(`cannot resume a job that is ${job.status}`, 'invalid_transition');
        result.tasks.push(...(await updateTasks(trx, { jobId: id, statuses: ['paused'] }, { status: 'queued' })));
        await setJobStatus(trx, id, 'queued', `resumed${note}`);
        result.jobs.push({ jobId: id, from: job.status, to: 'queued', activity: 'resumed' });
      } else {
        mergeSync(result, await this.#requeue(trx, job, note));
      }
      return mergeSync(result, await syncJobs(trx, [id], this.deps.policy));
    });
    publishSync(this.deps.bus, sync);
    this.deps.onWorkReady();
    return fetchJob(this.deps.db, id);
  }

  /** Requeues unfinished tasks (every task, when the job had completed) and clears the blocklist. */
  async #requeue(trx: Trx, job: JobRow, note: string): Promise<SyncResult> {
    if (!canJobTransition(job.status, 'requeueing')) throw new ConflictError(`cannot requeue a job that is ${job.status}`, 'invalid_transition');
    const statuses = job.status === 'completed' ? (['completed', 'failed', 'canceled', 'soft-failed', 'paused', 'queued'] as const) : (['failed', 'canceled', 'soft-failed', 'paused', 'queued'] as const);
    await setJobStatus(trx, job.id, 'requeueing', 'requeueing');
    const tasks = await updateTasks(trx, { jobId: job.id, statuses }, { status: 'queued', workerId: null, clearFailedBy: true, progress: 0, activity: '' });
    await recountPendingDependencies(trx, job.id);
    await clearBlocklist(trx, job.id);
    await setJobStatus(trx, job.id, 'queued', `requeued${note}`);
    return { tasks, jobs: [{ jobId: job.id, from: job.status, to: 'queued', activity: 'requeued' }] };
  }

  async setPriority(id: string, priority: number): Promise<JobRow> {
    await withTransaction(this.deps.db, async (trx) => {
      await fetchJob(trx, id, { forUpdate: true });
      await setJobPriority(trx, id, priority);
    });
    this.deps.bus.publish({ type: 'job', jobId: id, status: 'priority', change: `priority ${priority}` });
    this.deps.onWorkReady();
    return fetchJob(this.deps.db, id);
  }

  async delete(id: string): Promise<void> {
    const job = await fetchJob(this.deps.db, id);
    if (job.count_active > 0) throw new ConflictError(`job ${id} has ${job.count_active} active tasks; cancel it first`, 'job_active');
    await withTransaction(this.deps.db, (trx) => deleteJob(trx, id));
    this.#names.delete(id);
    await this.deps.logs.removeJob(id);
    await this.deps.onJobDeleted?.(job);
    this.deps.bus.publish({ type: 'job', jobId: id, status: 'deleted', change: 'deleted' });
  }
}
