import type { Logger } from 'pino';
import type { EventBus } from '../events/bus.js';
import {
  pickTasks,
  assignTasks,
  capabilityKey,
  groupByCapability,
  type HandedTask,
  type WaitingWorker,
} from '../persistence/schedule.js';
import {
  pickAndAssignAtOnce,
  type AssignedAtOnce,
  type RoundOutcome,
  type UncheckedWorker,
} from '../persistence/round-at-once.js';
import type { SyncResult } from '../jobs/job-sync.js';
import { withTransaction } from '../persistence/transaction.js';
import type { Db } from '../persistence/schema/database.js';
import { publishSync } from '../jobs/publish.js';
import { systemClock, type Clock } from '../../util/clock.js';
import { Gathering } from '../../util/gathering.js';
import { WorkerReturns } from './worker-returns.js';
import type { TaskUpdate } from '../../contract/index.js';

/**
 * Under load a round waits up to 25 ms for the workers expected back within that time, at most 64,
 * to gather (see Gathering, WorkerReturns). Only a round right after one that served every waiter,
 * at least 8 of them, lingers: a farm that was idle, or whose workers run long tasks, is answered
 * at once.
 */
const ROUND_GATHERING = { target: 64, lingerMs: 25, busyFrom: 8 };

/** A job whose first task a round handed out: queued → active. */
const activation = (jobId: string): SyncResult['jobs'][number] => ({
  jobId,
  from: 'queued',
  to: 'active',
  activity: '',
});

/** A waiting worker's report on the task it just finished, applied by the round that serves it. */
export interface FinishReport {
  taskId: string;
  update: TaskUpdate;
}

/**
 * A waiter that came without the lookup of its worker (see UncheckedWorker) was not confirmed by its
 * round: it is sent back, its report not applied, to ask again the full way (lookup, then as usual).
 */
export class WorkerUnconfirmed extends Error {
  constructor() {
    super('the worker was not confirmed by its round: look it up and ask again');
  }
}

/** How a worker waits: until `signal` aborts; with the report on its last task; unchecked (UncheckedWorker). */
export interface WaitOptions {
  signal?: AbortSignal;
  report?: FinishReport;
  /** The worker's request skipped the lookup of its row: its round confirms it, or sends it back. */
  unchecked?: { platform: string };
}

/** Applies reports, all at once; per report, the error it met (undefined: applied). */
type SettleReports = (reports: Array<FinishReport & { workerId: string }>) => Promise<Array<unknown | undefined>>;

interface Waiter {
  worker: WaitingWorker;
  /** Not yet applied: the round applies it (one batch for all its waiters) before it picks. */
  report: FinishReport | undefined;
  /** The report being applied: its error, or undefined once applied. */
  settling: Promise<unknown> | undefined;
  unchecked: UncheckedWorker | undefined;
  /** Ends the wait with WorkerUnconfirmed, the report unapplied. */
  sendBack: () => void;
  resolve: (task: HandedTask | undefined) => void;
  reject: (error: unknown) => void;
  timer: NodeJS.Timeout;
}

export interface DispatcherDeps {
  db: Db;
  bus: EventBus;
  log: Logger;
  now?: Clock;
  /** Applies finish reports (TaskUpdates). */
  settleReports: SettleReports;
  /**
   * Applies finish reports and picks for one group of alike workers in one statement
   * (TaskUpdates#settleAndPick); not applied when it did not take them (nothing changed).
   */
  settleAndPick?: SettleAndPick;
}

type SettleAndPick = (
  reports: Array<FinishReport & { workerId: string }>,
  group: readonly WaitingWorker[],
  at: Date,
  unchecked: readonly UncheckedWorker[],
) => Promise<RoundOutcome>;

/**
 * Hands tasks to long-polling workers. Every waiting worker is served by one scheduling
 * round: it applies the finish reports its waiters brought (one batch), then picks and
 * assigns tasks for all of them (one statement per group of alike workers), so the commit
 * cost is shared. A round runs when a worker starts waiting or when work may have become
 * ready; a slow periodic round covers changes made by other managers on the same database.
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
  readonly #gathering = new Gathering(ROUND_GATHERING.target, ROUND_GATHERING.lingerMs);
  readonly #returns = new WorkerReturns();
  readonly #poll: NodeJS.Timeout;
  /** ready-to-assigned latencies, for the dispatch benchmark. */
  readonly stats = { rounds: 0, assigned: 0 };

  constructor(
    private readonly deps: DispatcherDeps,
    pollMs = 1000,
  ) {
    this.#poll = setInterval(() => this.kick(), pollMs);
    this.#poll.unref();
  }

  /**
   * Waits up to `waitMs` for a task for this worker; undefined when none came. With a report on
   * the task it just finished, the next round applies the report before it picks (the reports of
   * all its waiters in one batch): the finish and the next task share a round. A failing report
   * rejects, and the worker gets no task. An unchecked worker that its round cannot confirm is sent
   * back (WorkerUnconfirmed).
   */
  request(worker: WaitingWorker, waitMs: number, options: WaitOptions = {}): Promise<HandedTask | undefined> {
    const { signal, report, unchecked } = options;
    // A second request from the same worker replaces its first (the first connection is gone).
    this.#waiters.get(worker.id)?.resolve(undefined);
    this.#returns.returned(worker.id);
    return new Promise((resolve, reject) => {
      /** No longer waiting: its timer and its place go. */
      const leave = (): void => {
        clearTimeout(waiter.timer);
        if (this.#waiters.get(worker.id) === waiter) this.#waiters.delete(worker.id);
      };
      const finish = (task: HandedTask | undefined): void => {
        leave();
        // Ended before a round took its report (timeout, abort, shutdown): apply it now all the
        // same; ended while a round applies it: answer once it is applied.
        const { report: unsettled, settling } = waiter;
        waiter.report = undefined;
        const outcome = unsettled
          ? this.deps.settleReports([{ ...unsettled, workerId: worker.id }]).then(([error]) => error)
          : settling;
        if (!outcome) {
          resolve(task);
          return;
        }
        void outcome.then((error) => (error === undefined ? resolve(task) : reject(error)));
      };
      const waiter: Waiter = {
        worker,
        report,
        settling: undefined,
        unchecked: unchecked && { id: worker.id, platform: unchecked.platform },
        sendBack: () => {
          leave();
          waiter.report = undefined;
          reject(new WorkerUnconfirmed());
        },
        resolve: finish,
        reject,
        timer: setTimeout(() => finish(undefined), waitMs),
      };
      this.#waiters.set(worker.id, waiter);
      this.#gathering.offer(this.#waiters.size);
      signal?.addEventListener('abort', () => finish(undefined), { once: true });
      // Gone before it began waiting (a request sent back, then looked up): end it as an abort would.
      if (signal?.aborted) {
        finish(undefined);
        return;
      }
      // A report is applied by a round even when no work is ready for this worker.
      if (waiter.report || !this.#idleGroups.has(capabilityKey(worker))) this.#schedule();
    });
  }

  /**
   * The common busy round in one statement, for one group of waiters of the same capability whose
   * reports are all plain completions. Undefined when it does not apply, or changed nothing (the
   * round then settles and picks in turn). A waiter that ends while the statement runs applies its
   * report itself (a replay if the statement applied it first: harmless, and the statement changes
   * nothing if it comes second).
   */
  async #settleAndPick(candidates: Waiter[]): Promise<{ picked: Map<string, HandedTask> | undefined } | undefined> {
    const settleAndPick = this.deps.settleAndPick;
    // Those that ended while an earlier group's statement ran are not picked for.
    const group = this.#stillWaiting(candidates);
    const reporting = group.filter((waiter) => waiter.report);
    if (!settleAndPick || reporting.length === 0) return undefined;
    const reports = reporting.map((waiter) => ({ ...(waiter.report as FinishReport), workerId: waiter.worker.id }));
    let result: RoundOutcome;
    try {
      const unchecked = reporting.flatMap((waiter) => (waiter.unchecked ? [waiter.unchecked] : []));
      const workers = group.map((waiter) => waiter.worker);
      result = await settleAndPick(reports, workers, (this.deps.now ?? systemClock)(), unchecked);
    } catch (error) {
      // Nothing known to have applied: the round settles and picks in turn, and meets the error there.
      this.deps.log.debug({ err: error }, 'one-statement round failed');
      return undefined;
    }
    if (!result.applied) {
      // Found as held: the unchecked waiters take the transactional path with the rest, not a lookup.
      if (result.workersConfirmed) for (const waiter of reporting) waiter.unchecked = undefined;
      return undefined;
    }
    for (const waiter of reporting) {
      waiter.report = undefined;
      waiter.unchecked = undefined;
    }
    if (!result.picked) return { picked: undefined };
    const { assigned, changes, activatedJobs } = result.picked;
    publishSync(this.deps.bus, { tasks: changes, jobs: activatedJobs.map(activation) });
    return { picked: assigned };
  }

  /** The waiters of a round that still wait (one may have ended meanwhile: timeout, abort). */
  #stillWaiting(waiters: Waiter[]): Waiter[] {
    return waiters.filter((waiter) => this.#waiters.get(waiter.worker.id) === waiter);
  }

  /** Applies the reports of this round's waiters; those whose report failed leave with its error. */
  async #settleReports(waiters: Waiter[]): Promise<Waiter[]> {
    const reporting = waiters.filter((waiter) => waiter.report);
    if (reporting.length === 0) return waiters;
    const batch = this.deps.settleReports(
      reporting.map((waiter) => ({ ...(waiter.report as FinishReport), workerId: waiter.worker.id })),
    );
    reporting.forEach((waiter, i) => {
      waiter.report = undefined;
      waiter.settling = batch.then((outcomes) => outcomes[i]);
    });
    const outcomes = await batch;
    reporting.forEach((waiter, i) => {
      // A failed report ends the wait: the waiter answers with its error (settling still holds it).
      if (outcomes[i] === undefined) waiter.settling = undefined;
      else waiter.resolve(undefined);
    });
    // Still waiting: a waiter may also have ended (timeout, abort) while its report was applied.
    return this.#stillWaiting(waiters);
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
        const { assigned, servedAll } = await this.#round();
        // Anyone still waiting may be served by tasks beyond this round's pick.
        if (assigned > 0 && this.#waiters.size > 0) this.#again = true;
        // Busy: the next round lingers for the workers expected back soon, also when none waits
        // yet (it would otherwise start with the first to arrive, and the rest wait for another).
        if (servedAll && assigned >= ROUND_GATHERING.busyFrom) {
          const expected = this.#waiters.size + this.#returns.expected(ROUND_GATHERING.lingerMs);
          await this.#gathering.wait(this.#waiters.size, expected);
          if (this.#waiters.size > 0) this.#again = true;
        }
      } while (this.#again && !this.#stopped && this.#waiters.size > 0);
    } finally {
      this.#running = false;
    }
  }

  /** One round: how many tasks it handed out, and whether every waiter it served got one. */
  async #round(): Promise<{ assigned: number; servedAll: boolean }> {
    const batch = [...this.#waiters.values()].slice(0, 500);
    const assigned = new Map<string, HandedTask>();
    /** Reports applied, no task picked yet. */
    const toPick: Waiter[] = [];
    /** Neither: the reports are applied in one batch, then tasks picked. */
    const toSettle: Waiter[] = [];
    for (const group of groupByCapability(batch, (waiter) => waiter.worker)) {
      const together = await this.#settleAndPick(group);
      if (!together) toSettle.push(...group);
      else if (!together.picked) toPick.push(...group);
      else for (const [workerId, task] of together.picked) assigned.set(workerId, task);
    }
    // Unchecked waiters the one statement did not confirm are sent back: nothing else can confirm them.
    for (const waiter of this.#stillWaiting(toSettle)) if (waiter.unchecked) waiter.sendBack();
    toPick.push(...(await this.#settleReports(this.#stillWaiting(toSettle))));
    const picking = this.#stillWaiting(toPick);
    try {
      if (picking.length)
        for (const [id, task] of await this.#assign(picking.map((w) => w.worker))) assigned.set(id, task);
    } catch (error) {
      // The database is away: those waiters get no answer now; they ask again, the next round retries.
      this.deps.log.warn({ err: error }, 'scheduling round failed');
      if (assigned.size === 0) return { assigned: 0, servedAll: false };
    }
    const waiters = this.#stillWaiting(batch);
    if (waiters.length === 0) return { assigned: 0, servedAll: false };
    this.stats.rounds += 1;
    this.stats.assigned += assigned.size;
    for (const waiter of waiters) {
      const task = assigned.get(waiter.worker.id);
      if (task) {
        this.#returns.handed(waiter.worker.id);
        waiter.resolve({ ...task, status: 'active', worker_id: waiter.worker.id });
      } else if (assigned.size === 0) this.#idleGroups.add(capabilityKey(waiter.worker));
    }
    return { assigned: assigned.size, servedAll: assigned.size === waiters.length };
  }

  /**
   * Picks and assigns tasks for the waiting workers: each group of workers with the same
   * capabilities in one statement (pickAndAssignAtOnce); a group whose tasks carry exclusions
   * for some of its workers in one transaction with the per-worker rules (pickTasks).
   */
  async #assign(workers: WaitingWorker[]): Promise<Map<string, HandedTask>> {
    const now = (this.deps.now ?? systemClock)();
    const assigned = new Map<string, HandedTask>();
    const sync: SyncResult = { tasks: [], jobs: [] };
    const record = (result: AssignedAtOnce): void => {
      for (const [workerId, task] of result.assigned) assigned.set(workerId, task);
      sync.tasks.push(...result.changes);
      sync.jobs.push(...result.activatedJobs.map(activation));
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
    this.#gathering.release();
    clearInterval(this.#poll);
    for (const waiter of this.#waiters.values()) waiter.resolve(undefined);
  }
}
