import type {
  AssignedTask,
  SignOn,
  TaskUpdate,
  SleepSchedule as SleepScheduleBody,
  WorkerControl,
  WorkerStateAnswer,
} from '../../contract/index.js';
import type { EventBus } from '../events/bus.js';
import type { FailurePolicy } from '../state/job-status.js';
import type { WorkerStatus } from '../state/statuses.js';
import { UserError } from '../../util/errors.js';
import type { Clock } from '../../util/clock.js';
import {
  fetchWorker,
  fetchWorkersWithHeldTasks,
  updateWorker,
  moveWorker,
  deleteWorker,
  pageWorkers,
  type RequestingWorker,
  type WorkerWithHeldTask,
} from '../persistence/workers.js';
import { activeTaskIdsByWorker, activeTaskOfWorker, type Page } from '../persistence/tasks.js';
import { ConflictError, NotFoundError } from '../persistence/errors.js';
import { assertActionAllowed, WORKER_ACTION_FROM, WORKER_ACTION_REQUESTS } from '../state/actions.js';
import { WORKING_STATUSES } from '../state/statuses.js';
import { scheduledStatus } from './sleep-schedule.js';
import { BatchLoader } from '../../util/batch-loader.js';
import { updateTasks } from '../persistence/task-changes.js';
import type { Db, Trx } from '../persistence/schema/database.js';
import { withTransaction } from '../persistence/transaction.js';
import { syncJobs, mergeSync, type SyncResult } from '../jobs/job-sync.js';
import { publishSync } from '../jobs/publish.js';
import type { SleepSchedule, WorkerRow } from '../persistence/schema/tables.js';
import type { HandedTask, WaitingWorker } from '../persistence/schedule.js';
import { WorkerUnconfirmed, type Dispatcher, type FinishReport } from '../scheduler/dispatcher.js';
import type { TaskUpdates } from '../tasks/task-updates.js';
import type { JobService } from '../jobs/job-service.js';
import type { SharedStorage } from '../storage/shared-storage.js';
import type { WorkerAuth } from './worker-auth.js';
import type { Platform } from '../../storage/index.js';

export interface WorkerServiceDeps {
  db: Db;
  bus: EventBus;
  policy: FailurePolicy;
  onWorkReady: () => void;
  /** A control request arrived for this worker (ends its long poll so it hears of it). */
  onControl?: (workerId: string) => void;
  /** The clock sleep schedules are read against, and heartbeats stamped with. */
  now: Clock;
  /** Where idle workers wait for a task. */
  dispatcher: Pick<Dispatcher, 'request'>;
  /** Applies a finish report that cannot wait for the next round. */
  taskUpdates: Pick<TaskUpdates, 'apply'>;
  jobs: Pick<JobService, 'nameAndType'>;
  /** Paths in commands, in the form of the worker's own platform. */
  storage: Pick<SharedStorage, 'commandsFor'>;
  auth: Pick<WorkerAuth, 'forget'>;
  /** The longest a task request waits for work. */
  longPollMs: number;
}

/** A worker as the user side shows it: its row and the task it runs, if any. */
export interface WorkerView {
  row: WorkerRow;
  currentTaskId: string | null;
}

/** What a worker's request for work brings. */
export type NextTask =
  | { kind: 'task'; task: AssignedTask }
  /** Nothing came within the wait. */
  | { kind: 'none' }
  /** The worker is to change status first (sleep, shut down, restart). */
  | { kind: 'status-change'; state: WorkerStateAnswer };

/** How the dispatcher knows a worker: what it may be handed. */
const waitingWorker = (row: RequestingWorker): WaitingWorker => ({
  id: row.id,
  supportedTaskTypes: row.supported_task_types,
  tags: row.tags,
});

/** A worker that is not awake or asleep (timed out, signed off) signs on before anything else. */
function assertSignedOn(worker: Pick<WorkerRow, 'name' | 'status'>): void {
  if (worker.status === 'awake' || worker.status === 'asleep') return;
  throw new ConflictError(`worker ${worker.name} is ${worker.status}: it must sign on again first`, 'sign_on_required');
}

const requestedState = (row: Pick<WorkerRow, 'status_requested' | 'lazy_status_request'>): WorkerStateAnswer => ({
  statusRequested: row.status_requested,
  lazy: row.lazy_status_request,
});

/** Sign-on/off, the long poll for work, control requests and sleep schedules of workers. */
export class WorkerService {
  /** Every task request starts with this lookup: under load, one query serves them all. */
  readonly #withHeldTask: BatchLoader<string, WorkerWithHeldTask>;
  /**
   * Workers last seen awake with nothing asked of them, as they were read. A completion from one of
   * them skips the lookup: the round that serves it confirms the worker in its own statement (or
   * sends it back to be looked up), which also holds when another manager changed it meanwhile.
   */
  readonly #lastSeenAwake = new Map<string, { row: RequestingWorker; waiting: WaitingWorker }>();

  constructor(private readonly deps: WorkerServiceDeps) {
    this.#withHeldTask = new BatchLoader((ids) => fetchWorkersWithHeldTasks(deps.db, ids));
  }

  async get(id: string): Promise<WorkerView> {
    const row = await fetchWorker(this.deps.db, id);
    return { row, currentTaskId: (await activeTaskOfWorker(this.deps.db, id))?.id ?? null };
  }

  /** One page of the workers by name, and how many there are. */
  async list(page: Page): Promise<{ workers: WorkerView[]; total: number }> {
    const { rows, total } = await pageWorkers(this.deps.db, page);
    const current = await activeTaskIdsByWorker(this.deps.db);
    return { workers: rows.map((row) => ({ row, currentTaskId: current.get(row.id) ?? null })), total };
  }

  /** The status asked of a signed-on worker; reading it changes nothing. */
  async state(id: string): Promise<WorkerStateAnswer> {
    const row = await fetchWorker(this.deps.db, id);
    assertSignedOn(row);
    return requestedState(row);
  }

  /**
   * A worker asks for work (the long poll). A status change that is due comes first: at once,
   * or (lazy) once the worker holds no task; a sleeping worker is told to sleep on. A task the
   * worker already holds is handed to it again; otherwise it waits up to `waitMs` for one.
   */
  async nextTask(id: string, options: { waitMs?: number; signal?: AbortSignal } = {}): Promise<NextTask> {
    const { worker, heldTaskId } = await this.#fetchWithHeldTask(id);
    // A worker the manager put in `error` (timed out) or `offline` gets no task until it signs on again.
    assertSignedOn(worker);
    if (worker.status_requested && (!worker.lazy_status_request || !heldTaskId))
      return { kind: 'status-change', state: requestedState(worker) };
    if (worker.status === 'asleep') return { kind: 'status-change', state: { statusRequested: 'asleep', lazy: false } };
    // Still held when read again (not canceled meanwhile): handed to the worker again.
    const held = heldTaskId ? await activeTaskOfWorker(this.deps.db, id) : undefined;
    if (held) return { kind: 'task', task: await this.#assigned(held, worker) };
    return this.#waitForTask(worker, options);
  }

  /**
   * A worker's last report on a task and its request for the next, in one (the finish request).
   * A completion by an awake worker with nothing else due waits with the request: the round that
   * serves the worker applies it first, in one batch with those of the other workers it serves.
   * Anything else (a failure, a status change due) is applied first, then runs as nextTask.
   * A worker last seen awake skips the lookup: its round confirms it or sends it back to be looked up.
   */
  async finishTask(
    id: string,
    taskId: string,
    update: TaskUpdate,
    options: { waitMs?: number; signal?: AbortSignal } = {},
  ): Promise<NextTask> {
    if (update.status === 'completed') {
      const report = { taskId, update };
      const seen = this.#lastSeenAwake.get(id);
      if (seen) {
        try {
          return await this.#waitForTask(seen.row, options, { waiting: seen.waiting, report, unchecked: true });
        } catch (error) {
          if (!(error instanceof WorkerUnconfirmed)) throw error;
          this.#lastSeenAwake.delete(id);
        }
      }
      const { worker, heldTaskId } = await this.#fetchWithHeldTask(id);
      if (worker.status === 'awake' && !worker.status_requested && (!heldTaskId || heldTaskId === taskId)) {
        const waiting = waitingWorker(worker);
        this.#lastSeenAwake.set(id, { row: worker, waiting });
        return this.#waitForTask(worker, options, { waiting, report });
      }
    }
    await this.deps.taskUpdates.apply(id, taskId, update);
    return this.nextTask(id, options);
  }

  /**
   * The long poll itself; a report on the task just finished is applied by the round that serves it.
   * `waiting`: the worker as the dispatcher knows it (made from its row when not given).
   * `unchecked`: the worker was not read for this request (its row is how it was last seen); its
   * round confirms it, or sends it back (WorkerUnconfirmed).
   */
  async #waitForTask(
    worker: RequestingWorker,
    options: { waitMs?: number; signal?: AbortSignal },
    wait: { waiting?: WaitingWorker; report?: FinishReport; unchecked?: boolean } = {},
  ): Promise<NextTask> {
    const waitMs = Math.min(options.waitMs ?? this.deps.longPollMs, this.deps.longPollMs);
    const task = await this.deps.dispatcher.request(wait.waiting ?? waitingWorker(worker), waitMs, {
      signal: options.signal,
      report: wait.report,
      unchecked: wait.unchecked ? { platform: worker.platform } : undefined,
    });
    if (task) return { kind: 'task', task: await this.#assigned(task, worker) };
    // Released early because a status change was requested: say so now.
    const now = await fetchWorker(this.deps.db, worker.id);
    return now.status_requested ? { kind: 'status-change', state: requestedState(now) } : { kind: 'none' };
  }

  async #fetchWithHeldTask(id: string): Promise<WorkerWithHeldTask> {
    const found = await this.#withHeldTask.load(id);
    if (!found) throw new NotFoundError('worker', id);
    return found;
  }

  /** The task as this worker should see it: paths in its own platform's form. */
  async #assigned(task: HandedTask, worker: Pick<WorkerRow, 'platform'>): Promise<AssignedTask> {
    const job = await this.deps.jobs.nameAndType(task.job_id);
    const commands = task.commands as AssignedTask['commands'];
    return {
      id: task.id,
      jobId: task.job_id,
      jobName: job.name,
      jobType: job.type,
      name: task.name,
      type: task.type,
      priority: task.priority,
      commands: this.deps.storage.commandsFor(commands, worker.platform as Platform),
    };
  }

  /**
   * A worker (re)joins the farm: awake, or asleep when a sleep is asked for, it was asleep
   * before, or its sleep schedule says so now. Tags a user set are kept; the worker's own
   * are taken only while no user has set any.
   */
  async signOn(id: string, body: SignOn, address: string): Promise<WorkerStateAnswer> {
    const worker = await fetchWorker(this.deps.db, id);
    const scheduled = worker.sleep_schedule
      ? scheduledStatus(worker.sleep_schedule as SleepSchedule, this.deps.now())
      : undefined;
    const sleeps =
      worker.status_requested === 'asleep' ||
      (worker.status === 'asleep' && worker.status_requested !== 'awake') ||
      (scheduled === 'asleep' && worker.status_requested !== 'awake');
    const status: WorkerStatus = sleeps ? 'asleep' : 'awake';
    await moveWorker(this.deps.db, id, worker.status, status, {
      name: body.name,
      platform: body.platform,
      supportedTaskTypes: body.supportedTaskTypes,
      ...(worker.tags_set_by_user ? {} : { tags: body.tags ?? worker.tags }),
      softwareVersion: body.softwareVersion ?? '',
      address,
      seenAt: this.deps.now(),
      statusRequested: null,
      lazy: false,
    });
    this.deps.bus.publish({ type: 'worker', workerId: id, status, change: 'signed on' });
    this.deps.onWorkReady();
    // The request is cleared; a worker signed on asleep is told so at once (no 423 round trip).
    return { statusRequested: status === 'asleep' ? 'asleep' : null, lazy: false };
  }

  /**
   * Signs a worker off (offline, or `error` when it timed out; `restart` when it leaves to
   * fulfil a restart request). Its active task is requeued. A sleeping worker that times out
   * is remembered as sleeping, so it signs on asleep again.
   */
  async signOff(id: string, status: 'offline' | 'error' = 'offline', reason = 'signed off'): Promise<void> {
    let to: WorkerStatus = status;
    const sync = await withTransaction(this.deps.db, async (trx) => {
      const worker = await fetchWorker(trx, id);
      if (status === 'offline' && worker.status_requested === 'restart') to = 'restart';
      const requeued = await this.#requeueActiveTasks(trx, id, `requeued: worker ${reason}`);
      const rememberSleep = status === 'error' && worker.status === 'asleep';
      await moveWorker(trx, id, worker.status, to, { statusRequested: rememberSleep ? 'asleep' : null, lazy: false });
      return requeued;
    });
    this.#published(sync);
    this.deps.bus.publish({ type: 'worker', workerId: id, status: to, change: reason });
  }

  /**
   * sleep / wake / shutdown / restart, after the current task or now, checked against
   * WORKER_ACTION_FROM. Asking for the status a worker already has withdraws any other
   * request (waking an awake worker cancels its pending sleep).
   */
  async control(id: string, body: WorkerControl): Promise<WorkerView> {
    const worker = await fetchWorker(this.deps.db, id);
    assertActionAllowed(WORKER_ACTION_FROM, 'worker', body.action, worker.status);
    const requested = WORKER_ACTION_REQUESTS[body.action];
    const now = body.when === 'now';
    if (worker.status === requested) {
      await updateWorker(this.deps.db, id, { statusRequested: null, lazy: false });
    } else if (!WORKING_STATUSES.includes(worker.status) && worker.status !== 'asleep') {
      // Away: the request waits for the worker to sign on (sleep or wake only).
      await updateWorker(this.deps.db, id, { statusRequested: requested, lazy: false });
    } else if (requested === 'awake') {
      await updateWorker(this.deps.db, id, { statusRequested: 'awake', lazy: false });
    } else {
      await updateWorker(this.deps.db, id, { statusRequested: requested, lazy: !now });
      if (now) await this.#requeueHeldTask(id, `requeued: worker asked to ${body.action} now`);
    }
    this.deps.onControl?.(id);
    this.deps.bus.publish({
      type: 'worker',
      workerId: id,
      status: worker.status,
      change: `${body.action} requested (${now ? 'now' : 'after the current task'})`,
    });
    return this.get(id);
  }

  /** The running task is aborted (may-I-keep-running says no) and requeued. */
  async #requeueHeldTask(id: string, activity: string): Promise<void> {
    this.#published(await withTransaction(this.deps.db, (trx) => this.#requeueActiveTasks(trx, id, activity)));
  }

  /** The worker's active task goes back to the queue, and its job's status follows. */
  async #requeueActiveTasks(trx: Trx, id: string, activity: string): Promise<SyncResult> {
    const tasks = await updateTasks(
      trx,
      { workerId: id, statuses: ['active'] },
      { status: 'queued', workerId: null, clearTouch: true, activity },
    );
    const jobIds = tasks.map((t) => t.jobId);
    return mergeSync({ jobs: [], tasks }, await syncJobs(trx, jobIds, this.deps.policy));
  }

  /** Tells everyone what a committed change did, and the dispatcher when tasks came free. */
  #published(sync: SyncResult): void {
    publishSync(this.deps.bus, sync);
    if (sync.tasks.length) this.deps.onWorkReady();
  }

  /**
   * The worker acted on a request (fell asleep, woke up). Only a signed-on worker may: one
   * the manager put in `error` or `offline` must sign on again first.
   */
  async acknowledge(id: string, status: 'awake' | 'asleep'): Promise<void> {
    const worker = await fetchWorker(this.deps.db, id);
    assertSignedOn(worker);
    await moveWorker(this.deps.db, id, worker.status, status, {
      statusRequested: null,
      lazy: false,
      seenAt: this.deps.now(),
    });
    this.deps.bus.publish({ type: 'worker', workerId: id, status, change: `now ${status}` });
    // An awake worker asks for work next.
    if (status === 'awake') this.deps.onWorkReady();
  }

  /** Tags set here are the farm's: they survive sleep, wake, restart and signing on again. */
  async setTags(id: string, tags: string[]): Promise<WorkerView> {
    await updateWorker(this.deps.db, id, { tags: [...new Set(tags)], tagsSetByUser: true });
    this.deps.onWorkReady();
    return this.get(id);
  }

  /** A new or changed schedule applies at once: a worker inside its sleep window is asked to sleep now. */
  async setSleepSchedule(id: string, schedule: SleepScheduleBody): Promise<WorkerView> {
    if (schedule.start === schedule.end)
      throw new UserError('the sleep schedule starts and ends at the same time', { field: 'end' });
    await updateWorker(this.deps.db, id, { sleepSchedule: schedule });
    await this.applySleepSchedule(await fetchWorker(this.deps.db, id));
    return this.get(id);
  }

  /**
   * Asks a scheduled worker to sleep or wake (after its current task) when its schedule
   * says so and nothing asks for it already. The sleep scheduler calls this as the clock
   * passes; setting a schedule calls it at once.
   */
  async applySleepSchedule(worker: WorkerRow): Promise<void> {
    if (!worker.sleep_schedule || (worker.status !== 'awake' && worker.status !== 'asleep')) return;
    const wanted = scheduledStatus(worker.sleep_schedule as SleepSchedule, this.deps.now());
    // A switched-off schedule asks for nothing (and must not turn a user's "now" into "after the task").
    if (wanted === undefined || worker.status === wanted || worker.status_requested === wanted) return;
    await updateWorker(this.deps.db, worker.id, { statusRequested: wanted, lazy: true });
    this.deps.onControl?.(worker.id);
    this.deps.bus.publish({
      type: 'worker',
      workerId: worker.id,
      status: worker.status,
      change: `sleep schedule: ${wanted}`,
    });
  }

  /** A worker deleted (here or through another manager): its token and what is known of it go. */
  forget(id: string): void {
    this.deps.auth.forget(id);
    this.#lastSeenAwake.delete(id);
  }

  async remove(id: string): Promise<void> {
    await fetchWorker(this.deps.db, id);
    await this.signOff(id, 'offline', 'deleted');
    await deleteWorker(this.deps.db, id);
    this.forget(id);
    this.deps.bus.publish({ type: 'worker', workerId: id, status: 'deleted', change: 'deleted' });
  }
}
