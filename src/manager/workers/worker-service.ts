import { randomUUID } from 'node:crypto';
import type { Static } from '@sinclair/typebox';
import type { RegisterWorker, SignOn, WorkerControl, SleepScheduleSchema } from '../../contract/index.js';
import type { EventBus } from '../events/bus.js';
import type { FailurePolicy } from '../state/job-status.js';
import type { WorkerStatus } from '../state/statuses.js';
import { UserError } from '../../util/errors.js';
import { hashToken, newToken, tokenMatches } from '../auth/secrets.js';
import {
  fetchWorker,
  fetchWorkersWithHeldTasks,
  insertWorker,
  updateWorker,
  moveWorker,
  deleteWorker,
  touchWorkers,
  type WorkerWithHeldTask,
} from '../persistence/workers.js';
import { ConflictError, NotFoundError } from '../persistence/errors.js';
import { assertActionAllowed, WORKER_ACTION_FROM, WORKER_ACTION_REQUESTS } from '../state/actions.js';
import { WORKING_STATUSES } from '../state/statuses.js';
import { scheduledStatus } from './sleep-schedule.js';
import { BatchLoader } from '../../util/batch-loader.js';
import type { Db } from '../persistence/schema/database.js';
import { updateTasks } from '../persistence/task-changes.js';
import { withTransaction } from '../persistence/transaction.js';
import { syncJobs, mergeSync, type SyncResult } from '../jobs/job-sync.js';
import { publishSync } from '../jobs/publish.js';
import type { SleepSchedule, WorkerRow } from '../persistence/schema/tables.js';

export class AuthError extends Error {}

export interface WorkerServiceDeps {
  db: Db;
  bus: EventBus;
  policy: FailurePolicy;
  farmSecret: string;
  onWorkReady: () => void;
  /** A control request arrived for this worker (ends its long poll so it hears of it). */
  onControl?: (workerId: string) => void;
  /** The clock sleep schedules are read against (tests set it). */
  now?: () => Date;
}

/** A worker that is not awake or asleep (timed out, signed off) signs on before anything else. */
export function assertSignedOn(worker: WorkerRow): void {
  if (worker.status === 'awake' || worker.status === 'asleep') return;
  throw new ConflictError(`worker ${worker.name} is ${worker.status}: it must sign on again first`, 'sign_on_required');
}

/** Registration, sign-on/off, control requests and heartbeats of workers. */
export class WorkerService {
  /** id → token hash, so authenticating a request needs no query. */
  readonly #credentials = new Map<string, string>();
  /** Heartbeats are written in batches: ids seen since the last flush. */
  readonly #seen = new Set<string>();
  /** Every task request starts with this lookup: under load, one query serves them all. */
  readonly #withHeldTask: BatchLoader<string, WorkerWithHeldTask>;

  readonly #now: () => Date;

  constructor(private readonly deps: WorkerServiceDeps) {
    this.#now = deps.now ?? (() => new Date());
    this.#withHeldTask = new BatchLoader((ids) => fetchWorkersWithHeldTasks(deps.db, ids));
  }

  /** A worker and the active task it holds, if any. */
  async fetchWithHeldTask(id: string): Promise<WorkerWithHeldTask> {
    const found = await this.#withHeldTask.load(id);
    if (!found) throw new NotFoundError('worker', id);
    return found;
  }

  async register(body: Static<typeof RegisterWorker>, address: string): Promise<{ id: string; token: string }> {
    if (!tokenMatches(body.secret, hashToken(this.deps.farmSecret))) throw new AuthError('wrong farm secret');
    const id = randomUUID();
    const token = newToken();
    await insertWorker(this.deps.db, {
      id,
      name: body.name,
      secretHash: hashToken(token),
      platform: body.platform,
      supportedTaskTypes: body.supportedTaskTypes,
      tags: body.tags ?? [],
    });
    await updateWorker(this.deps.db, id, { address });
    this.#credentials.set(id, hashToken(token));
    this.deps.bus.publish({ type: 'worker', workerId: id, status: 'offline', change: 'registered' });
    return { id, token };
  }

  /** Checks a worker's id and token; marks it seen. */
  async authenticate(id: string, token: string): Promise<void> {
    let hash = this.#credentials.get(id);
    if (!hash) {
      const row = await this.deps.db.selectFrom('worker').select('secret_hash').where('id', '=', id).executeTakeFirst();
      if (!row) throw new AuthError('unknown worker');
      hash = row.secret_hash;
      this.#credentials.set(id, hash);
    }
    if (!tokenMatches(token, hash)) throw new AuthError('wrong worker token');
    this.#seen.add(id);
  }

  async flushHeartbeats(alsoSeen: string[] = []): Promise<void> {
    for (const id of alsoSeen) this.#seen.add(id);
    const ids = [...this.#seen];
    this.#seen.clear();
    await touchWorkers(this.deps.db, ids);
  }

  /**
   * A worker (re)joins the farm: awake, or asleep when a sleep is asked for, it was asleep
   * before, or its sleep schedule says so now. Tags a user set are kept; the worker's own
   * are taken only while no user has set any.
   */
  async signOn(id: string, body: Static<typeof SignOn>, address: string): Promise<WorkerRow> {
    const worker = await fetchWorker(this.deps.db, id);
    const scheduled = worker.sleep_schedule
      ? scheduledStatus(worker.sleep_schedule as SleepSchedule, this.#now())
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
      seen: true,
      statusRequested: null,
      lazy: false,
    });
    this.deps.bus.publish({ type: 'worker', workerId: id, status, change: 'signed on' });
    this.deps.onWorkReady();
    return fetchWorker(this.deps.db, id);
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
      const tasks = await updateTasks(
        trx,
        { workerId: id, statuses: ['active'] },
        { status: 'queued', workerId: null, clearTouch: true, activity: `requeued: worker ${reason}` },
      );
      const rememberSleep = status === 'error' && worker.status === 'asleep';
      await moveWorker(trx, id, worker.status, to, { statusRequested: rememberSleep ? 'asleep' : null, lazy: false });
      return mergeSync(
        { jobs: [], tasks },
        await syncJobs(
          trx,
          tasks.map((t) => t.jobId),
          this.deps.policy,
        ),
      );
    });
    publishSync(this.deps.bus, sync);
    this.deps.bus.publish({ type: 'worker', workerId: id, status: to, change: reason });
    if (sync.tasks.length) this.deps.onWorkReady();
  }

  /**
   * sleep / wake / shutdown / restart, after the current task or now, checked against
   * WORKER_ACTION_FROM. Asking for the status a worker already has withdraws any other
   * request (waking an awake worker cancels its pending sleep).
   */
  async control(id: string, body: Static<typeof WorkerControl>): Promise<WorkerRow> {
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
    return fetchWorker(this.deps.db, id);
  }

  /** The running task is aborted (may-I-keep-running says no) and requeued. */
  async #requeueHeldTask(id: string, activity: string): Promise<void> {
    const sync = await withTransaction(this.deps.db, async (trx) => {
      const tasks = await updateTasks(
        trx,
        { workerId: id, statuses: ['active'] },
        { status: 'queued', workerId: null, clearTouch: true, activity },
      );
      return mergeSync(
        { jobs: [], tasks },
        await syncJobs(
          trx,
          tasks.map((t) => t.jobId),
          this.deps.policy,
        ),
      );
    });
    publishSync(this.deps.bus, sync);
    if (sync.tasks.length) this.deps.onWorkReady();
  }

  /**
   * The worker acted on a request (fell asleep, woke up). Only a signed-on worker may: one
   * the manager put in `error` or `offline` must sign on again first.
   */
  async acknowledge(id: string, status: 'awake' | 'asleep'): Promise<WorkerRow> {
    const worker = await fetchWorker(this.deps.db, id);
    assertSignedOn(worker);
    await moveWorker(this.deps.db, id, worker.status, status, { statusRequested: null, lazy: false, seen: true });
    this.deps.bus.publish({ type: 'worker', workerId: id, status, change: `now ${status}` });
    return fetchWorker(this.deps.db, id);
  }

  /** Tags set here are the farm's: they survive sleep, wake, restart and signing on again. */
  async setTags(id: string, tags: string[]): Promise<WorkerRow> {
    await updateWorker(this.deps.db, id, { tags: [...new Set(tags)], tagsSetByUser: true });
    this.deps.onWorkReady();
    return fetchWorker(this.deps.db, id);
  }

  /** A new or changed schedule applies at once: a worker inside its sleep window is asked to sleep now. */
  async setSleepSchedule(id: string, schedule: Static<typeof SleepScheduleSchema>): Promise<WorkerRow> {
    if (schedule.start === schedule.end)
      throw new UserError('the sleep schedule starts and ends at the same time', { field: 'end' });
    await updateWorker(this.deps.db, id, { sleepSchedule: schedule });
    await this.applySleepSchedule(await fetchWorker(this.deps.db, id));
    return fetchWorker(this.deps.db, id);
  }

  /**
   * Asks a scheduled worker to sleep or wake (after its current task) when its schedule
   * says so and nothing asks for it already. The sleep scheduler calls this as the clock
   * passes; setting a schedule calls it at once.
   */
  async applySleepSchedule(worker: WorkerRow): Promise<void> {
    if (!worker.sleep_schedule || (worker.status !== 'awake' && worker.status !== 'asleep')) return;
    const wanted = scheduledStatus(worker.sleep_schedule as SleepSchedule, this.#now());
    if (worker.status === wanted || worker.status_requested === wanted) return;
    await updateWorker(this.deps.db, worker.id, { statusRequested: wanted, lazy: true });
    this.deps.onControl?.(worker.id);
    this.deps.bus.publish({
      type: 'worker',
      workerId: worker.id,
      status: worker.status,
      change: `sleep schedule: ${wanted}`,
    });
  }

  async remove(id: string): Promise<void> {
    await this.signOff(id, 'offline', 'deleted');
    await deleteWorker(this.deps.db, id);
    this.#credentials.delete(id);
    this.deps.bus.publish({ type: 'worker', workerId: id, status: 'deleted', change: 'deleted' });
  }
}

export type { SyncResult };
