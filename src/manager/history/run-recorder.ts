import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Db } from '../persistence/schema/database.js';
import type { EventBus, EventOrigin, FarmEvent } from '../events/bus.js';
import {
  deleteJobRuns,
  finishOpenRunsOfTasks,
  finishRuns,
  insertRuns,
  type RunRecord,
} from '../persistence/history.js';
import type { Clock } from '../../util/clock.js';

/** How a run ends, by the status its task moves to. */
const OUTCOME_BY_STATUS: Record<string, string> = {
  completed: 'completed',
  failed: 'failed',
  'soft-failed': 'soft-failed',
  canceled: 'canceled',
  queued: 'requeued',
  paused: 'paused',
};

interface OpenRun extends RunRecord {
  stored: boolean;
}

/** A run's end this manager saw without its start: the run, if open, was started through another manager. */
interface EndElsewhere {
  taskId: string;
  finishedAt: Date;
  outcome: string;
  /** Stored with no start when no open run is found (a worker's result, not a stop or a requeue). */
  orphan: RunRecord | undefined;
}

/**
 * Records each run of a task on a worker (start, end, outcome) from the event bus, for the
 * dashboard's durations and per-worker timeline. Writes are batched (one insert and one update
 * per flush) off the dispatch path: the bus publishes after commit, and a slow or failing history
 * write never holds up a task. A run open when the manager stops ends with no start on record.
 * With several managers, a run may start through one and end through another (the worker moved,
 * or the task was stopped through the other): an end or a new start without an open run here
 * ends, by task, whatever run is still open in the database.
 */
export class RunRecorder {
  readonly #open = new Map<string, OpenRun>();
  #toInsert: OpenRun[] = [];
  #toFinish: OpenRun[] = [];
  #endElsewhere: EndElsewhere[] = [];
  #deleted: string[] = [];
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();
  readonly #unsubscribe: () => void;

  constructor(
    private readonly deps: { db: Db; bus: Pick<EventBus, 'tap'>; log: Logger; now: Clock },
    private readonly flushMs = 500,
  ) {
    // A tap, not a subscriber: the farm link sends events to other managers only for open streams.
    this.#unsubscribe = deps.bus.tap((event, origin) => this.#take(event, origin));
  }

  #take(event: FarmEvent, origin: EventOrigin): void {
    if (origin === 'elsewhere') return; // the manager that made the change records it
    if (event.type === 'job' && event.status === 'deleted') {
      this.#deleted.push(event.jobId);
      for (const [taskId, run] of this.#open) if (run.jobId === event.jobId) this.#open.delete(taskId);
      this.#schedule();
    }
    if (event.type !== 'task') return;
    const at = this.deps.now();
    const open = this.#open.get(event.taskId);
    if (event.status === 'active') {
      if (open && open.workerId === event.workerId) return; // progress of the run we know
      if (open) this.#end(open, 'requeued', at);
      else this.#endElsewhere.push({ taskId: event.taskId, finishedAt: at, outcome: 'requeued', orphan: undefined });
      const run: OpenRun = {
        id: randomUUID(),
        taskId: event.taskId,
        jobId: event.jobId,
        workerId: event.workerId,
        startedAt: at,
        finishedAt: null,
        outcome: 'running',
        stored: false,
      };
      this.#open.set(event.taskId, run);
      this.#toInsert.push(run);
    } else {
      const outcome = OUTCOME_BY_STATUS[event.status];
      if (!outcome) return;
      if (open) this.#end(open, outcome, at);
      else {
        // Started through another manager, or before this one restarted: no start on record here.
        const byWorker = event.workerId && outcome !== 'requeued' && outcome !== 'paused' && outcome !== 'canceled';
        const orphan = byWorker
          ? {
              id: randomUUID(),
              taskId: event.taskId,
              jobId: event.jobId,
              workerId: event.workerId,
              startedAt: null,
              finishedAt: at,
              outcome,
            }
          : undefined;
        this.#endElsewhere.push({ taskId: event.taskId, finishedAt: at, outcome, orphan });
      }
    }
    this.#schedule();
  }

  #end(run: OpenRun, outcome: string, at: Date): void {
    this.#open.delete(run.taskId);
    run.finishedAt = at;
    run.outcome = outcome;
    // Not stored yet: the insert carries the end too.
    if (run.stored) this.#toFinish.push(run);
  }

  #schedule(): void {
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      void this.flush();
    }, this.flushMs);
  }

  /** Writes what waits; resolves once it is stored (or the failure logged). */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#write());
    return this.#flushing;
  }

  async #write(): Promise<void> {
    const inserts = this.#toInsert.splice(0);
    const finishes = this.#toFinish.splice(0);
    const endsElsewhere = this.#endElsewhere.splice(0);
    const deleted = this.#deleted.splice(0);
    try {
      // Before this batch's new runs go in: they must not count as the open run of their task.
      const ended = await finishOpenRunsOfTasks(this.deps.db, endsElsewhere);
      const orphans = endsElsewhere.flatMap((end) => (end.orphan && !ended.has(end.taskId) ? [end.orphan] : []));
      await insertRuns(this.deps.db, [...orphans, ...inserts]);
      for (const run of inserts) run.stored = true;
      await finishRuns(
        this.deps.db,
        finishes.map((run) => ({ id: run.id, finishedAt: run.finishedAt as Date, outcome: run.outcome })),
      );
      for (const jobId of deleted) await deleteJobRuns(this.deps.db, jobId);
    } catch (error) {
      this.deps.log.warn({ err: error, runs: inserts.length + finishes.length }, 'task history not saved');
    }
  }

  async stop(): Promise<void> {
    this.#unsubscribe();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }
}
