import { randomUUID } from 'node:crypto';
import type { Static } from '@sinclair/typebox';
import type { RegisterWorker, SignOn, WorkerControl, SleepScheduleSchema } from '../api/schemas.js';
import type { EventBus } from '../events/bus.js';
import type { FailurePolicy } from '../state/job-status.js';
import type { WorkerStatus } from '../state/statuses.js';
import { UserError } from '../../util/errors.js';
import { hashToken, newToken, tokenMatches } from '../auth/secrets.js';
import { fetchWorker, fetchWorkersWithHeldTasks, insertWorker, updateWorker, deleteWorker, touchWorkers, type WorkerWithHeldTask } from '../persistence/workers.js';
import { NotFoundError } from '../persistence/errors.js';
import { BatchLoader } from '../../util/batch-loader.js';
import { updateTasks, type Db } from '../persistence/task-changes.js';
import { withTransaction } from '../persistence/transaction.js';
import { syncJobs, mergeSync, type SyncResult } from '../jobs/job-sync.js';
import { publishSync } from '../jobs/publish.js';
import type { WorkerRow } from '../persistence/tables.js';

export class AuthError extends Error {}

export interface WorkerServiceDeps {
  db: Db;
  bus: EventBus;
  policy: FailurePolicy;
  farmSecret: string;
  onWorkReady: () => void;
  /** A control request arrived for this worker (ends its long poll so it hears of it). */
  onControl?: (workerId: string) => void;
}

/** Registration, sign-on/off, control requests and heartbeats of workers. */
export class WorkerService {
  /** id → token hash, so authenticating a request needs no query. */
  readonly #credentials = new Map<string, string>();
  /** Heartbeats are written in batches: ids seen since the last flush. */
  readonly #seen = new Set<string>();
  /** Every task request starts with this lookup: under load, one query serves them all. */
  readonly #withHeldTask: BatchLoader<string, WorkerWithHeldTask>;

  constructor(private readonly deps: WorkerServiceDeps) {
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
      id, name: body.name, secretHash: hashToken(token), platform: body.platform, supportedTaskTypes: body.supportedTaskTypes, tags: body.tags ?? [],
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

  async signOn(id: string, body: Static<typeof SignOn>, address: string): Promise<WorkerRow> {
    const worker = await fetchWorker(this.deps.db, id);
    // A restart or shutdown request is fulfilled by the worker coming back; sleep stays.
    const status: WorkerStatus = worker.status_requested === 'asleep' || (worker.status === 'asleep' && worker.status_requested !== 'awake') ? 'asleep' : 'awake';
    await updateWorker(this.deps.db, id, {
      name: body.name, platform: body.platform, supportedTaskTypes: body.supportedTaskTypes, tags: body.tags ?? worker.tags,
      softwareVersion: body.softwareVersion ?? '', address, status, seen: true,
      statusRequested: null,
    });
    this.deps.bus.publish({ type: 'worker', workerId: id, status, change: 'signed on' });
    this.deps.onWorkReady();
    return fetchWorker(this.deps.db, id);
  }

  /** Signs a worker off: it goes offline and its active task is requeued. */
  async signOff(id: string, status: WorkerStatus = 'offline', reason = 'signed off'): Promise<void> {
    const sync = await withTransaction(this.deps.db, async (trx) => {
      const tasks = await updateTasks(trx, { workerId: id, statuses: ['active'] }, { status: 'queued', workerId: null, clearTouch: true, activity: `requeued: worker ${reason}` });
      await updateWorker(trx, id, { status, statusRequested: null, lazy: false });
      return mergeSync({ jobs: [], tasks }, await syncJobs(trx, tasks.map((t) => t.jobId), this.deps.policy));
    });
    publishSync(this.deps.bus, sync);
    this.deps.bus.publish({ type: 'worker', workerId: id, status, change: reason });
    if (sync.tasks.length) this.deps.onWorkReady();
  }

  /** sleep / wake / shutdown / restart, after the current task or now. */
  async control(id: string, body: Static<typeof WorkerControl>): Promise<WorkerRow> {
    const worker = await fetchWorker(this.deps.db, id);
    const requested: WorkerStatus = { sleep: 'asleep', wake: 'awake', shutdown: 'offline', restart: 'restart' }[body.action] as WorkerStatus;
    const now = body.when === 'now';
    if (requested === 'awake' && worker.status === 'asleep') {
      await updateWorker(this.deps.db, id, { statusRequested: 'awake', lazy: false });
    } else {
      await updateWorker(this.deps.db, id, { statusRequested: requested, lazy: !now });
      if (now) {
        // The running task is aborted (may-I-keep-running says no) and requeued.
        const sync = await withTransaction(this.deps.db, async (trx) => {
          const tasks = await updateTasks(trx, { workerId: id, statuses: ['active'] }, { status: 'queued', workerId: null, clearTouch: true, activity: `requeued: worker asked to ${body.action} now` });
          return mergeSync({ jobs: [], tasks }, await syncJobs(trx, tasks.map((t) => t.jobId), this.deps.policy));
        });
        publishSync(this.deps.bus, sync);
        if (sync.tasks.length) this.deps.onWorkReady();
      }
    }
    this.deps.onControl?.(id);
    this.deps.bus.publish({ type: 'worker', workerId: id, status: worker.status, change: `${body.action} requested (${now ? 'now' : 'after the current task'})` });
    return fetchWorker(this.deps.db, id);
  }

  /** The worker acted on a request: record its new status. */
  async acknowledge(id: string, status: WorkerStatus): Promise<void> {
    await updateWorker(this.deps.db, id, { status, statusRequested: null, lazy: false, seen: true });
    this.deps.bus.publish({ type: 'worker', workerId: id, status, change: `now ${status}` });
  }

  async setTags(id: string, tags: string[]): Promise<WorkerRow> {
    await updateWorker(this.deps.db, id, { tags: [...new Set(tags)] });
    this.deps.onWorkReady();
    return fetchWorker(this.deps.db, id);
  }

  async setSleepSchedule(id: string, schedule: Static<typeof SleepScheduleSchema>): Promise<WorkerRow> {
    if (schedule.start === schedule.end) throw new UserError('the sleep schedule starts and ends at the same time', { field: 'end' });
    await updateWorker(this.deps.db, id, { sleepSchedule: schedule });
    return fetchWorker(this.deps.db, id);
  }

  async remove(id: string): Promise<void> {
    await this.signOff(id, 'offline', 'deleted');
    await deleteWorker(this.deps.db, id);
    this.#credentials.delete(id);
    this.deps.bus.publish({ type: 'worker', workerId: id, status: 'deleted', change: 'deleted' });
  }
}

export type { SyncResult };
