import type { EventBus } from '../events/bus.js';
import type { TaskLogs } from '../logs/task-logs.js';
import type { FailurePolicy } from '../state/job-status.js';
import { dependenciesOf, fetchTask, recountPendingDependencies } from '../persistence/tasks.js';
import { fetchJob } from '../persistence/jobs.js';
import { assertActionAllowed, TASK_ACTION_FROM } from '../state/actions.js';
import { InvalidTransitionError } from '../state/transitions.js';
import { fetchWorker } from '../persistence/workers.js';
import type { Db } from '../persistence/schema/database.js';
import { updateTasks } from '../persistence/task-changes.js';
import { withTransaction } from '../persistence/transaction.js';
import { syncJobs, mergeSync, reopenJob, type SyncResult } from '../jobs/job-sync.js';
import { publishSync } from '../jobs/publish.js';
import type { TaskRow } from '../persistence/schema/tables.js';

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

  /** A task and the tasks it depends on. */
  async get(id: string): Promise<{ row: TaskRow; dependsOn: string[] }> {
    const row = await fetchTask(this.deps.db, id);
    return { row, dependsOn: (await dependenciesOf(this.deps.db, [id])).get(id) ?? [] };
  }

  /** Runs a finished or soft-failed task again (paused, if its job is pausing or paused). */
  async requeue(id: string): Promise<TaskRow> {
    const sync = await withTransaction(this.deps.db, async (trx) => {
      const task = await fetchTask(trx, id, { forUpdate: true });
      assertActionAllowed(TASK_ACTION_FROM, 'task', 'requeue', task.status);
      const job = await fetchJob(trx, task.job_id, { forUpdate: true });
      if (job.status === 'cancel-requested')
        throw new InvalidTransitionError(
          `cannot requeue a task of a job that is being canceled; requeue the job once it is canceled`,
        );
      const paused = job.status === 'paused' || job.status === 'pause-requested';
      const result: SyncResult = { jobs: [], tasks: [] };
      result.tasks.push(
        ...(await updateTasks(
          trx,
          { ids: [id], statuses: TASK_ACTION_FROM.requeue },
          {
            status: paused ? 'paused' : 'queued',
            workerId: null,
            clearFailedBy: true,
            progress: 0,
            activity: 'requeued',
          },
        )),
      );
      await recountPendingDependencies(trx, task.job_id);
      mergeSync(result, await reopenJob(trx, job, 'a task was requeued'));
      return mergeSync(result, await syncJobs(trx, [task.job_id], this.deps.policy));
    });
    this.#after(sync);
    return fetchTask(this.deps.db, id);
  }

  /** Cancels one task; a running one stops when its worker next asks to keep running. */
  async cancel(id: string): Promise<TaskRow> {
    const sync = await withTransaction(this.deps.db, async (trx) => {
      const task = await fetchTask(trx, id, { forUpdate: true });
      assertActionAllowed(TASK_ACTION_FROM, 'task', 'cancel', task.status);
      const tasks = await updateTasks(
        trx,
        { ids: [id], statuses: TASK_ACTION_FROM.cancel },
        { status: 'canceled', activity: 'canceled by a user' },
      );
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
  async mayKeepRunning(
    workerId: string,
    taskId: string,
  ): Promise<{ mayKeepRunning: boolean; reason: string; statusRequested: TaskRowStatusRequest }> {
    const worker = await fetchWorker(this.deps.db, workerId);
    const task = await fetchTask(this.deps.db, taskId);
    const statusRequested = worker.status_requested && !worker.lazy_status_request ? worker.status_requested : null;
    if (task.worker_id !== workerId || task.status !== 'active') {
      return {
        mayKeepRunning: false,
        reason: `the task is ${task.status}${task.worker_id && task.worker_id !== workerId ? ' on another worker' : ''}`,
        statusRequested,
      };
    }
    if (statusRequested)
      return { mayKeepRunning: false, reason: `the worker is asked to become ${statusRequested} now`, statusRequested };
    const job = await fetchJob(this.deps.db, task.job_id);
    // A pausing job lets its running tasks finish (pause with "now" already took them back).
    if (job.status === 'cancel-requested') {
      const sync = await withTransaction(this.deps.db, async (trx) => {
        const tasks = await updateTasks(
          trx,
          { ids: [taskId], workerId, statuses: ['active'] },
          { status: 'canceled', workerId: null, clearTouch: true, activity: 'canceled with its job' },
        );
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
