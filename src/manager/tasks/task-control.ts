import type { EventBus } from '../events/bus.js';
import type { TaskLogs } from '../logs/task-logs.js';
import type { FailurePolicy } from '../state/job-status.js';
import { ConflictError } from '../persistence/errors.js';
import { fetchTask, recountPendingDependencies } from '../persistence/tasks.js';
import { fetchJob, setJobStatus } from '../persistence/jobs.js';
import { fetchWorker } from '../persistence/workers.js';
import { updateTasks, type Db } from '../persistence/task-changes.js';
import { withTransaction } from '../persistence/transaction.js';
import { syncJobs, mergeSync, type SyncResult } from '../jobs/job-sync.js';
import { publishSync } from '../jobs/publish.js';
import type { TaskRow } from '../persistence/tables.js';

export interface TaskControlDeps {
  db: Db;
  bus: EventBus;
  logs: TaskLogs;
  policy: FailurePolicy;
  onWorkReady: () => void;
}

/** User actions on single tasks, and the worker's "may I keep running?". */
export class TaskControl {
  constructor(private readonly deps: TaskControlDeps) {}

  async requeue(id: string): Promise<TaskRow> {
    const sync = await withTransaction(this.deps.db, async (trx) => {
      const task = await fetchTask(trx, id, { forUpdate: true });
      if (task.status === 'active') throw new ConflictError(`task ${id} is running; cancel it first`, 'task_active');
      const job = await fetchJob(trx, task.job_id, { forUpdate: true });
      const result: SyncResult = { jobs: [], tasks: [] };
      result.tasks.push(...(await updateTasks(trx, { ids: [id] }, { status: job.status === 'paused' ? 'paused' : 'queued', workerId: null, clearFailedBy: true, progress: 0, activity: 'requeued' })));
      await recountPendingDependencies(trx, task.job_id);
      if (['completed', 'failed', 'canceled'].includes(job.status)) {
        await setJobStatus(trx, job.id, 'queued', 'a task was requeued');
        result.jobs.push({ jobId: job.id, from: job.status, to: 'queued', activity: 'a task was requeued' });
      }
      return mergeSync(result, await syncJobs(trx, [task.job_id], this.deps.policy));
    });
    this.#after(sync);
    return fetchTask(this.deps.db, id);
  }

  async cancel(id: string): Promise<TaskRow> {
    const sync = await withTransaction(this.deps.db, async (trx) => {
      const task = await fetchTask(trx, id, { forUpdate: true });
      if (['completed', 'failed', 'canceled'].includes(task.status)) throw new ConflictError(`task ${id} is already ${task.status}`, 'task_finished');
      const tasks = await updateTasks(trx, { ids: [id] }, { status: 'canceled', activity: 'canceled by a user' });
      return mergeSync({ jobs: [], tasks }, await syncJobs(trx, [task.job_id], this.deps.policy));
    });
    this.#after(sync);
    return fetchTask(this.deps.db, id);
  }

  /**
   * Answers a worker asking whether to go on with a task. When the answer is no because the
   * job is pausing or canceling, the task's new status is recorded here, since the worker
   * simply drops it.
   */
  async mayKeepRunning(workerId: string, taskId: string): Promise<{ mayKeepRunning: boolean; reason: string; statusRequested: TaskRowStatusRequest }> {
    const worker = await fetchWorker(this.deps.db, workerId);
    const task = await fetchTask(this.deps.db, taskId);
    const statusRequested = worker.status_requested && !worker.lazy_status_request ? worker.status_requested : null;
    if (task.worker_id !== workerId || task.status !== 'active') {
      return { mayKeepRunning: false, reason: `the task is ${task.status}${task.worker_id && task.worker_id !== workerId ? ' on another worker' : ''}`, statusRequested };
    }
    if (statusRequested) return { mayKeepRunning: false, reason: `the worker is asked to become ${statusRequested} now`, statusRequested };
    const job = await fetchJob(this.deps.db, task.job_id);
    if (job.status === 'pause-requested' || job.status === 'cancel-requested') {
      const to = job.status === 'pause-requested' ? 'paused' : 'canceled';
      const sync = await withTransaction(this.deps.db, async (trx) => {
        const tasks = await updateTasks(trx, { ids: [taskId], workerId, statuses: ['active'] }, { status: to, workerId: null, clearTouch: true, activity: `${to} with its job` });
        return mergeSync({ jobs: [], tasks }, await syncJobs(trx, [task.job_id], this.deps.policy));
      });
      this.#after(sync);
      return { mayKeepRunning: false, reason: `the job is ${job.status}`, statusRequested };
    }
    return { mayKeepRunning: true, reason: 'ok', statusRequested };
  }

  #after(sync: SyncResult): void {
    publishSync(this.deps.bus, sync);
    this.deps.onWorkReady();
  }
}

type TaskRowStatusRequest = import('../state/statuses.js').WorkerStatus | null;
