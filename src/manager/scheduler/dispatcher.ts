import type { Logger } from 'pino';
import type { EventBus } from '../events/bus.js';
import type { TaskRow } from '../persistence/schema/tables.js';
import {
  pickTasks,
  assignTasks,
  capabilityKey,
  groupByCapability,
  type WaitingWorker,
} from '../persistence/schedule.js';
import { pickAndAssignAtOnce, type AssignedAtOnce } from '../persistence/schedule-at-once.js';
import type { SyncResult } from '../jobs/job-sync.js';
import { withTransaction } from '../persistence/transaction.js';
import type { Db } from '../persistence/schema/database.js';
import { publishSync } from '../jobs/publish.js';
import { systemClock, type Clock } from '../../util/clock.js';

interface Waiter {
  worker: WaitingWorker;
  resolve: (task: TaskRow | undefined) => void;
  reject: (error: unknown) => void;
  timer: NodeJS.Timeout;
  since: number;
}

/**
 * Hands tasks to long-polling workers. Every waiting worker is served by one scheduling
 * round: one transaction picks and assigns tasks for all of them, so the commit cost is
 * shared. A round runs when a worker starts waiting or when work may have become ready;
 * a slow periodic round covers changes made by other managers on the same database.
 */
export class Dispatcher {
  readonly #waiters = new Map<string, Waiter>();
  #running = false;
  /**
   * Capabilities a round found nothing for. A new waiter with one of them starts no round
   * of its own (idle farms would otherwise query on every long poll); any sign of new work,
   * and the periodic round, clear it.
   */
  readonly #idleGroups = new Set<string>();
  #again = false;
  #stopped = false;
  readonly #poll: NodeJS.Timeout;
  /** ready-to-assigned latencies, for the dispatch benchmark. */
  readonly stats = { rounds: 0, assigned: 0 };

  constructor(
    private readonly deps: { db: Db; bus: EventBus; log: Logger; now?: Clock },
    pollMs = 1000,
  ) {
    this.#poll = setInterval(() => this.kick(), pollMs);
    this.#poll.unref();
  }

  /** Waits up to `waitMs` for a task for this worker; undefined when none came. */
  request(worker: WaitingWorker, waitMs: number, signal?: AbortSignal): Promise<TaskRow | undefined> {
    // A second request from the same worker replaces its first (the first connection is gone).
    this.#waiters.get(worker.id)?.resolve(undefined);
    return new Promise((resolve, reject) => {
      const finish = (task: TaskRow | undefined): void => {
        clearTimeout(waiter.timer);
        if (this.#waiters.get(worker.id) === waiter) this.#waiters.delete(worker.id);
        resolve(task);
      };
      const waiter: Waiter = {
        worker,
        resolve: finish,
        reject,
        timer: setTimeout(() => finish(undefined), waitMs),
        since: Date.now(),
      };
      this.#waiters.set(worker.id, waiter);
      signal?.addEventListener('abort', () => finish(undefined), { once: true });
      if (!this.#idleGroups.has(capabilityKey(worker))) this.#schedule();
    });
  }

  /** Work may be ready: run a round soon (rounds never overlap; one more runs if asked meanwhile). */
  kick(): void {
    this.#idleGroups.clear();
    this.#schedule();
  }

  #schedule(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    if (this.#waiters.size === 0) return;
    this.#running = true;
    setImmediate(() => void this.#loop());
  }

  async #loop(): Promise<void> {
    try {
      do {
        this.#again = false;
        const assignedAny = await this.#round();
        // Anyone still waiting may be served by tasks beyond this round's pick.
        if (assignedAny && this.#waiters.size > 0) this.#again = true;
      } while (this.#again && !this.#stopped && this.#waiters.size > 0);
    } finally {
      this.#running = false;
    }
  }

  async #round(): Promise<boolean> {
    const waiters = [...this.#waiters.values()].slice(0, 500);
    if (waiters.length === 0) return false;
    let assigned: Map<string, TaskRow>;
    try {
      assigned = await this.#assign(waiters.map((w) => w.worker));
    } catch (error) {
      // The database is away: answer nobody now; workers ask again, the next round retries.
      this.deps.log.warn({ err: error }, 'scheduling round failed');
      return false;
    }
    this.stats.rounds += 1;
    this.stats.assigned += assigned.size;
    for (const waiter of waiters) {
      const task = assigned.get(waiter.worker.id);
      if (task) waiter.resolve({ ...task, status: 'active', worker_id: waiter.worker.id });
      else if (assigned.size === 0) this.#idleGroups.add(capabilityKey(waiter.worker));
    }
    return assigned.size > 0;
  }

  /**
   * Picks and assigns tasks for the waiting workers: each group of workers with the same
   * capabilities in one statement (pickAndAssignAtOnce); a group whose tasks carry exclusions
   * for some of its workers in one transaction with the per-worker rules (pickTasks).
   */
  async #assign(workers: WaitingWorker[]): Promise<Map<string, TaskRow>> {
    const now = (this.deps.now ?? systemClock)();
    const assigned = new Map<string, TaskRow>();
    const sync: SyncResult = { tasks: [], jobs: [] };
    const record = (result: AssignedAtOnce): void => {
      for (const [workerId, task] of result.assigned) assigned.set(workerId, task);
      sync.tasks.push(...result.changes);
      sync.jobs.push(
        ...result.activatedJobs.map((jobId) => ({
          jobId,
          from: 'queued' as const,
          to: 'active' as const,
          activity: '',
        })),
      );
    };
    const careful: WaitingWorker[] = [];
    try {
      for (const group of groupByCapability(workers)) {
        const result = await pickAndAssignAtOnce(this.deps.db, group, now);
        if (result) record(result);
        else careful.push(...group);
      }
      if (careful.length > 0) {
        record(
          await withTransaction(this.deps.db, async (trx) => {
            const picked = await pickTasks(trx, careful);
            const { changes, activatedJobs } = await assignTasks(trx, picked, now);
            return { assigned: picked, changes, activatedJobs };
          }),
        );
      }
    } finally {
      // What committed is told, also when a later group failed.
      publishSync(this.deps.bus, sync);
    }
    return assigned;
  }

  /** Ends a worker's long poll at once (its status is to change): it asks again and learns why. */
  release(workerId: string): void {
    this.#waiters.get(workerId)?.resolve(undefined);
  }

  /** Workers waiting in a long poll are alive: they count as seen. */
  waitingWorkerIds(): string[] {
    return [...this.#waiters.keys()];
  }

  get waiting(): number {
    return this.#waiters.size;
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#poll);
    for (const waiter of this.#waiters.values()) waiter.resolve(undefined);
  }
}
