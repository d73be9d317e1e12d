import type { TaskUpdate } from '../../contract/index.js';
import type { Clock } from '../../util/clock.js';
import type { EventBus } from '../events/bus.js';
import { managerLogLine, type TaskLogs } from '../logs/task-logs.js';
import type { FailurePolicy } from '../state/job-status.js';
import { taskStatusAfterFailure, shouldBlocklist } from '../state/job-status.js';
import {
  fetchTasksForUpdate,
  touchTasks,
  recordUpdateSeqs,
  releaseDependents,
  countTasksFailedByWorker,
} from '../persistence/tasks.js';
import { addToBlocklist, countCapableWorkers, fetchWorkerName } from '../persistence/workers.js';
import { fetchJobTag } from '../persistence/jobs.js';
import type { Db, Trx } from '../persistence/schema/database.js';
import { updateTasks, applyCountChanges } from '../persistence/task-changes.js';
import { withTransaction } from '../persistence/transaction.js';
import {
  completeAtOnce,
  settleAndPickAtOnce,
  type CompletedAtOnce,
  type RoundOutcome,
  type UncheckedWorker,
} from '../persistence/round-at-once.js';
import type { WaitingWorker } from '../persistence/schedule.js';
import { syncJobs, failJob, mergeSync, type SyncResult } from '../jobs/job-sync.js';
import { publishSync } from '../jobs/publish.js';
import type { TaskRow } from '../persistence/schema/tables.js';
import { asCompletion, sortBatch, splitPlainCompletions, type Pending, type SortedBatch } from './update-batch.js';

export interface TaskUpdateDeps {
  db: Db;
  /**
   * Where plain completions' one statement runs: the scheduler's session (default: db). A round
   * then runs its two statements on one warm backend, which keeps both planned once.
   */
  atOnceDb?: Db;
  bus: EventBus;
  logs: TaskLogs;
  policy: FailurePolicy;
  /** Called when work may have become ready (a dependency completed, tasks requeued). */
  onWorkReady: () => void;
  /** Stamps the tasks' last report (task_timeout is measured from it). */
  now: Clock;
}

/**
 * Applies worker task updates with group commit: updates that arrive while a transaction
 * runs are applied together in the next one, so many completions share one commit.
 */
export class TaskUpdates {
  #queue: Pending[] = [];
  #flushing = false;
  /** Batches applied and the updates in them, for the dispatch benchmark. */
  readonly stats = { batches: 0, updates: 0 };

  constructor(private readonly deps: TaskUpdateDeps) {}

  apply(workerId: string, taskId: string, update: TaskUpdate): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ workerId, taskId, update, resolve, reject });
      if (!this.#flushing) void this.#flush();
    });
  }

  /** Applies several updates in one batch; per update, the error it met (undefined: applied). */
  async applyAll(updates: Array<{ workerId: string; taskId: string; update: TaskUpdate }>): Promise<unknown[]> {
    const outcomes = updates.map(
      ({ workerId, taskId, update }) =>
        new Promise<unknown>((resolve) =>
          this.#queue.push({ workerId, taskId, update, resolve: () => resolve(undefined), reject: resolve }),
        ),
    );
    if (!this.#flushing) void this.#flush();
    return Promise.all(outcomes);
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    try {
      while (this.#queue.length) {
        const batch = this.#queue.splice(0, 500);
        this.stats.batches += 1;
        this.stats.updates += batch.length;
        await this.#applyBatch(batch);
      }
    } finally {
      this.#flushing = false;
    }
  }

  /** The batch's plain completions in one statement when they allow it, the rest in one transaction. */
  async #applyBatch(batch: Pending[]): Promise<void> {
    const { plain, rest } = splitPlainCompletions(batch);
    const careful = (await this.#completeAtOnce(plain)) ? rest : batch;
    if (careful.length) await this.#applyInTransaction(careful);
  }

  /**
   * Plain completions (completeAtOnce): one statement, one commit. False when one of them needs the
   * transactional path; nothing was changed then.
   */
  async #completeAtOnce(plain: Pending[]): Promise<boolean> {
    if (plain.length === 0) return true;
    let done: CompletedAtOnce | undefined;
    try {
      done = await completeAtOnce(
        this.deps.atOnceDb ?? this.deps.db,
        plain.map(asCompletion),
        this.deps.policy.jobFailShare,
      );
    } catch (error) {
      for (const item of plain) item.reject(error);
      return true;
    }
    if (!done) return false;
    await this.#completedAtOnce(plain, done, () => {
      for (const item of plain) item.resolve();
    });
    return true;
  }

  /**
   * A scheduling round's completions and its pick in one statement (settleAndPickAtOnce): the
   * round costs one commit. Not applied when an update is not a plain completion, one needs the
   * transactional path, or an unchecked worker is not what the caller holds (see UncheckedWorker):
   * nothing was changed then, and the caller applies them (applyAll) and picks on its own. A failing
   * statement throws; nothing of it is known to have applied.
   */
  async settleAndPick(
    updates: Array<{ workerId: string; taskId: string; update: TaskUpdate }>,
    group: readonly WaitingWorker[],
    at: Date,
    unchecked: readonly UncheckedWorker[] = [],
  ): Promise<RoundOutcome> {
    const { rest } = splitPlainCompletions(updates);
    if (rest.length > 0) return { applied: false, workersConfirmed: false };
    const db = this.deps.atOnceDb ?? this.deps.db;
    const { jobFailShare } = this.deps.policy;
    const round = await settleAndPickAtOnce(db, updates.map(asCompletion), group, at, jobFailShare, unchecked);
    if (!round.completed) return { applied: false, workersConfirmed: round.workersConfirmed };
    this.stats.batches += 1;
    this.stats.updates += updates.length;
    await this.#completedAtOnce(updates, round.completed, () => undefined);
    return { applied: true, picked: round.picked };
  }

  /** After plain completions committed: write logs, answer the workers (`answer`), tell everyone. */
  async #completedAtOnce(
    updates: ReadonlyArray<{ taskId: string; update: TaskUpdate }>,
    done: CompletedAtOnce,
    answer: () => void,
  ): Promise<void> {
    const jobOf = new Map(done.changes.map((change) => [change.id, change.jobId]));
    const logs = updates.flatMap((item) => {
      const jobId = jobOf.get(item.taskId);
      return item.update.log?.length && jobId ? [{ jobId, taskId: item.taskId, lines: item.update.log }] : [];
    });
    await Promise.all(
      logs.map((entry) => this.deps.logs.append(entry.jobId, entry.taskId, entry.lines).catch(() => undefined)),
    );
    answer();
    for (const entry of logs) this.deps.bus.publish({ type: 'log', ...entry });
    publishSync(this.deps.bus, { tasks: done.changes, jobs: [] });
    if (done.releasedDependents > 0) this.deps.onWorkReady();
  }

  async #applyInTransaction(batch: Pending[]): Promise<void> {
    let done: { sorted: SortedBatch; sync: SyncResult; workReady: boolean };
    try {
      // A retried transaction starts again from the locking read: nothing of a failed attempt is kept.
      done = await withTransaction(this.deps.db, async (trx) => {
        // One locking read for the whole batch, then one statement per kind of change.
        const tasks = await fetchTasksForUpdate(
          trx,
          batch.map((item) => item.taskId),
        );
        const sorted = sortBatch(batch, tasks);
        return { sorted, ...(await this.#applySorted(trx, sorted, tasks)) };
      });
    } catch (error) {
      for (const item of batch) item.reject(error);
      return;
    }
    const { sorted, sync, workReady } = done;
    // Committed: write logs, answer the workers, tell everyone.
    await Promise.all(
      sorted.logs.map((entry) => this.deps.logs.append(entry.jobId, entry.taskId, entry.lines).catch(() => undefined)),
    );
    for (const item of batch) {
      const outcome = sorted.outcomes.get(item);
      if (outcome === undefined) item.resolve();
      else item.reject(outcome);
    }
    for (const entry of sorted.logs) this.deps.bus.publish({ type: 'log', ...entry });
    for (const entry of sorted.progress) this.deps.bus.publish({ type: 'task', ...entry });
    publishSync(this.deps.bus, sync);
    if (workReady || sync.tasks.some((t) => t.to === 'queued')) this.deps.onWorkReady();
  }

  /** Applies a sorted batch inside its transaction: one statement per kind of change, then the failures. */
  async #applySorted(
    trx: Trx,
    sorted: SortedBatch,
    tasks: Map<string, TaskRow>,
  ): Promise<{ sync: SyncResult; workReady: boolean }> {
    const { touched, completed, handedBack, failed } = sorted;
    let workReady = false;
    const result: SyncResult = { jobs: [], tasks: [] };
    const deferred = { deferCounts: true };
    await touchTasks(trx, touched, this.deps.now());
    await recordUpdateSeqs(trx, sorted.seqs);
    if (completed.length) {
      result.tasks.push(
        ...(await updateTasks(
          trx,
          { ids: completed, statuses: ['active'] },
          { status: 'completed', progress: 1, activity: 'completed', clearTouch: true },
          deferred,
        )),
      );
    }
    if (handedBack.length) {
      // The worker hands the task back (it is shutting down): run it elsewhere, no blame.
      result.tasks.push(
        ...(await updateTasks(
          trx,
          { ids: handedBack, statuses: ['active'] },
          { status: 'queued', workerId: null, clearTouch: true, activity: 'handed back by its worker' },
          deferred,
        )),
      );
      workReady = true;
    }
    const counted = await applyCountChanges(trx, result.tasks);
    // After the jobs' counters: locks go tasks → job → dependents, as completeAtOnce takes them.
    if (completed.length && (await releaseDependents(trx, completed)) > 0) workReady = true;
    for (const { task, item } of failed) {
      const outcome = await this.#fail(trx, task, item.workerId, item.update.activity);
      mergeSync(result, outcome.sync);
      sorted.logs.push({ jobId: task.job_id, taskId: task.id, lines: [managerLogLine(outcome.note)] });
      // The failure policy changed this job's counters again: syncJobs reads it afresh.
      counted.delete(task.job_id);
      workReady = true;
    }
    const jobOf = (id: string): string => {
      const task = tasks.get(id);
      if (!task) throw new Error(`task ${id} is in the batch but was not read with it`);
      return task.job_id;
    };
    const touchedJobs = new Set([...completed, ...handedBack, ...failed.map((f) => f.task.id)].map(jobOf));
    return { sync: mergeSync(result, await syncJobs(trx, touchedJobs, this.deps.policy, counted)), workReady };
  }

  /**
   * The failure policy for one failed task (ARCHITECTURE.md, Scheduling). Returns the changes
   * and a line for the task's log saying what happens next ("failed on w2; 2 more workers
   * may try"). A task no capable worker is left to try fails, and fails its job at once.
   */
  async #fail(
    trx: Trx,
    task: TaskRow,
    workerId: string,
    activity?: string,
  ): Promise<{ sync: SyncResult; note: string }> {
    const result: SyncResult = { jobs: [], tasks: [] };
    const failedBy = new Set([...task.failed_by_workers, workerId]);
    const jobTag = await fetchJobTag(trx, task.job_id);
    const workerName = (await fetchWorkerName(trx, workerId)) ?? workerId;
    const where = `failed on ${workerName}`;
    let status = taskStatusAfterFailure(failedBy.size, this.deps.policy);
    let note: string;
    let noneLeft = false;
    if (status === 'soft-failed') {
      const capable = await countCapableWorkers(trx, task.job_id, task.type, jobTag, [...failedBy]);
      const mayTry = Math.min(capable, this.deps.policy.maxWorkersPerTask - failedBy.size);
      if (capable === 0) {
        // A small farm may have fewer capable workers than the policy's N: nobody is left to try it.
        status = 'failed';
        noneLeft = true;
        note = `${where}; no other capable worker is left to try it (${failedBy.size} failed it): the task and its job fail`;
      } else note = `${where}; ${mayTry} more worker${mayTry === 1 ? '' : 's'} may try`;
    } else note = `${where}; ${failedBy.size} workers failed it, the most the failure policy allows: the task fails`;
    const activityNote = activity ? `${activity} (${note})` : note;
    result.tasks.push(
      ...(await updateTasks(
        trx,
        { ids: [task.id], statuses: ['active'] },
        { status, workerId: null, addFailedBy: workerId, clearTouch: true, activity: activityNote },
      )),
    );
    if (noneLeft) {
      mergeSync(
        result,
        await failJob(trx, task.job_id, `failed: no worker is left that may run task ${task.name} (${task.type})`),
      );
      return { sync: result, note };
    }
    const failedOfType = await countTasksFailedByWorker(trx, task.job_id, task.type, workerId);
    if (shouldBlocklist(failedOfType, this.deps.policy)) {
      await addToBlocklist(trx, task.job_id, workerId, task.type);
      note = `${note}; ${workerName} failed ${failedOfType} ${task.type} tasks of this job and is blocklisted for them`;
      // Its failures say more about the worker than the tasks: give them a fresh start elsewhere.
      result.tasks.push(
        ...(await updateTasks(
          trx,
          { jobId: task.job_id, type: task.type, failedBy: workerId, statuses: ['soft-failed', 'failed'] },
          { status: 'queued', removeFailedBy: workerId },
        )),
      );
      if ((await countCapableWorkers(trx, task.job_id, task.type, jobTag)) === 0) {
        mergeSync(
          result,
          await failJob(
            trx,
            task.job_id,
            `failed: no worker left that may run its ${task.type} tasks (all blocklisted)`,
          ),
        );
      }
    }
    return { sync: result, note };
  }
}
