/**
 * Every task update the worker sends goes through this queue:
 *
 * - progress, activity and log lines are batched per task and sent at most every
 *   `flushIntervalMs` (or at once when a batch holds `batchLines` lines); a status change is sent
 *   at once, after (and merged with) whatever its task had pending;
 * - updates go out one at a time, in the order they were made;
 * - while the manager is unreachable or answers 5xx, updates are appended to an on-disk journal
 *   (update-journal.ts) and replayed in order, with backoff, when it is back; a worker restart in
 *   between loses nothing, since the next queue opened on the same folder carries on;
 * - 409 (another worker holds the task now) or 404 (the task is gone) drops that task's queued
 *   updates and tells whoever watches the task (the task runner then stops it).
 */
import type { Logger } from 'pino';
import { ApiError, isRetryable } from '../client/errors.js';
import type { TaskUpdate } from '../client/types.js';
import { toError } from '../util/errors.js';
import {
  MAX_ACTIVITY,
  batchUpdate,
  clamp01,
  mergeBatch,
  printable,
  splitLog,
  truncate,
  type Pending,
  type StatusUpdate,
} from './update-batch.js';
import { UpdateJournal, type JournalEntry } from './update-journal.js';

export type SendUpdate = (taskId: string, update: TaskUpdate, signal: AbortSignal) => Promise<void>;

export interface UpdateQueueOptions {
  /** Folder of the journal, e.g. `<home>/worker-queue`. */
  dir: string;
  send: SendUpdate;
  logger?: Logger | undefined;
  flushIntervalMs?: number | undefined;
  batchLines?: number | undefined;
  retryMinDelayMs?: number | undefined;
  retryMaxDelayMs?: number | undefined;
}

interface Outgoing {
  entry: JournalEntry;
  /** Called once the entry is delivered, journaled or dropped. */
  settle: () => void;
}

type Outcome = 'delivered' | 'dropped' | 'discarded' | 'retry';

/** Dropped task ids remembered (their late updates are ignored). */
const MAX_DROPPED = 1000;

export class UpdateQueue {
  readonly #journal: UpdateJournal;
  readonly #send: SendUpdate;
  readonly #logger: Logger | undefined;
  readonly #flushIntervalMs: number;
  readonly #batchLines: number;
  readonly #retryMinDelayMs: number;
  readonly #retryMaxDelayMs: number;

  readonly #pending = new Map<string, Pending>();
  #flushTimer: NodeJS.Timeout | undefined;
  /** Entries on their way while the manager answers; empty while the journal has a backlog. */
  #outbox: Outgoing[] = [];
  /** True while updates go to the journal (the manager was not reachable). */
  #offline = false;
  #pumping = false;
  #closed = false;
  #retryDelay: number;
  #wake: (() => void) | undefined;
  #inFlight: AbortController | undefined;
  readonly #dropped = new Set<string>();
  readonly #dropWatchers = new Map<string, Set<() => void>>();
  #idleWaiters: Array<() => void> = [];
  #outages = 0;

  private constructor(journal: UpdateJournal, options: UpdateQueueOptions) {
    this.#journal = journal;
    this.#send = options.send;
    this.#logger = options.logger;
    this.#flushIntervalMs = options.flushIntervalMs ?? 250;
    this.#batchLines = options.batchLines ?? 100;
    this.#retryMinDelayMs = options.retryMinDelayMs ?? 250;
    this.#retryMaxDelayMs = options.retryMaxDelayMs ?? 5000;
    this.#retryDelay = this.#retryMinDelayMs;
  }

  /** Opens the queue on its folder; updates a previous run left there are replayed at once. */
  static async open(options: UpdateQueueOptions): Promise<UpdateQueue> {
    const queue = new UpdateQueue(await UpdateJournal.open(options.dir), options);
    if (queue.#journal.count > 0) {
      queue.#offline = true;
      queue.#logger?.info({ updates: queue.#journal.count }, 'replaying task updates queued by an earlier run');
      queue.#pump();
    }
    return queue;
  }

  /** Updates not yet delivered (batched, on their way, or on disk). */
  get backlog(): number {
    let pending = 0;
    for (const batch of this.#pending.values())
      if (batch.log.length || batch.progress !== undefined || batch.activity !== undefined) pending++;
    return pending + this.#outbox.length + this.#journal.count;
  }

  /** False while updates are being kept on disk because the manager could not be reached. */
  get online(): boolean {
    return !this.#offline;
  }

  /** How many times sending failed and the queue went to disk (the worker signs on again after one). */
  get outages(): number {
    return this.#outages;
  }

  // ---- batched updates

  progress(taskId: string, progress: number, activity?: string): void {
    if (!this.#accepts(taskId)) return;
    const batch = this.#batch(taskId);
    batch.progress = clamp01(progress);
    if (activity !== undefined) batch.activity = truncate(printable(activity), MAX_ACTIVITY);
    this.#schedule();
  }

  activity(taskId: string, activity: string): void {
    if (!this.#accepts(taskId)) return;
    this.#batch(taskId).activity = truncate(printable(activity), MAX_ACTIVITY);
    this.#schedule();
  }

  log(taskId: string, ...lines: string[]): void {
    if (!this.#accepts(taskId) || lines.length === 0) return;
    const batch = this.#batch(taskId);
    for (const line of lines) batch.log.push(printable(line));
    if (batch.log.length >= this.#batchLines) void this.flush(taskId);
    else this.#schedule();
  }

  // ---- immediate updates

  /**
   * Sends an update (typically a status change) after everything its task had pending, merged
   * with it. Resolves once the update is delivered or safe on disk.
   */
  send(taskId: string, update: StatusUpdate): Promise<void> {
    // After close() too: then it goes straight to the journal, for the next run to deliver.
    if (this.#dropped.has(taskId)) return Promise.resolve();
    const clean =
      update.activity === undefined
        ? update
        : { ...update, activity: truncate(printable(update.activity), MAX_ACTIVITY) };
    return this.#enqueue(taskId, mergeBatch(this.#takeBatch(taskId), clean));
  }

  /** Sends what is batched (for one task, or all); resolves once it is delivered or on disk. */
  flush(taskId?: string): Promise<void> {
    const ids = taskId === undefined ? [...this.#pending.keys()] : [taskId];
    const sent: Array<Promise<void>> = [];
    for (const id of ids) {
      const update = batchUpdate(this.#takeBatch(id));
      if (update) sent.push(this.#enqueue(id, update));
    }
    if (this.#pending.size === 0 && this.#flushTimer) {
      clearTimeout(this.#flushTimer);
      this.#flushTimer = undefined;
    }
    return Promise.all(sent).then(() => undefined);
  }

  /**
   * Waits until every update made so far is delivered. False when `timeoutMs` passes or the
   * signal aborts first (the rest stays queued, on disk if need be).
   */
  async drain(options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<boolean> {
    void this.flush();
    if (this.backlog === 0) return true;
    this.kick();
    return new Promise<boolean>((resolve) => {
      let done = false;
      const finish = (value: boolean): void => {
        if (done) return;
        done = true;
        if (timer) clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        this.#idleWaiters = this.#idleWaiters.filter((waiter) => waiter !== onIdle);
        resolve(value);
      };
      const onIdle = (): void => finish(true);
      const onAbort = (): void => finish(false);
      const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => finish(false), options.timeoutMs);
      if (options.signal?.aborted) return finish(false);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.#idleWaiters.push(onIdle);
    });
  }

  /** Retry now instead of waiting out the backoff (e.g. the manager answered another call). */
  kick(): void {
    this.#retryDelay = this.#retryMinDelayMs;
    this.#wake?.();
    this.#pump();
  }

  // ---- dropped tasks

  /** Calls `listener` when the manager says this worker does not hold the task (409/404). */
  watchDrop(taskId: string, listener: () => void): () => void {
    let watchers = this.#dropWatchers.get(taskId);
    if (!watchers) this.#dropWatchers.set(taskId, (watchers = new Set()));
    watchers.add(listener);
    return () => {
      watchers.delete(listener);
      if (watchers.size === 0) this.#dropWatchers.delete(taskId);
    };
  }

  isDropped(taskId: string): boolean {
    return this.#dropped.has(taskId);
  }

  /** The task was assigned to this worker (again): accept its updates even if it was dropped before. */
  beginTask(taskId: string): void {
    this.#dropped.delete(taskId);
  }

  /**
   * Stops sending: batched updates and those on their way go to the journal for the next run.
   * A request in flight is abandoned (the manager may still apply it; `seq` tells a replay apart).
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    // Batched updates join the outbox, which then goes to disk as a whole: nothing waits on the manager.
    const flushed = this.flush();
    this.#closed = true;
    this.#inFlight?.abort(new Error('update queue closed'));
    this.#wake?.();
    await this.#goOffline();
    await flushed;
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    // Let a pump that was mid-way settle its last file operation.
    await this.#journal.append([]);
  }

  // ---- internals

  #accepts(taskId: string): boolean {
    return !this.#closed && !this.#dropped.has(taskId);
  }

  #batch(taskId: string): Pending {
    let batch = this.#pending.get(taskId);
    if (!batch) this.#pending.set(taskId, (batch = { log: [] }));
    return batch;
  }

  #takeBatch(taskId: string): Pending | undefined {
    const batch = this.#pending.get(taskId);
    this.#pending.delete(taskId);
    return batch;
  }

  #schedule(): void {
    if (this.#flushTimer || this.#closed) return;
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined;
      void this.flush();
    }, this.#flushIntervalMs);
  }

  #enqueue(taskId: string, update: StatusUpdate): Promise<void> {
    const parts = splitLog(update);
    const settled: Array<Promise<void>> = [];
    for (const part of parts) {
      const seq = this.#journal.nextSeq();
      const entry: JournalEntry = { seq, taskId, update: { ...part, seq } };
      if (this.#offline || this.#closed) {
        settled.push(this.#append([entry]));
      } else {
        settled.push(new Promise<void>((settle) => this.#outbox.push({ entry, settle })));
      }
    }
    this.#pump();
    return Promise.all(settled).then(() => undefined);
  }

  /** Moves everything on its way to the journal, in order, and switches to replaying from disk. */
  #goOffline(): Promise<void> {
    this.#offline = true;
    const moved = this.#outbox.splice(0);
    const written = this.#append(moved.map((item) => item.entry));
    for (const item of moved) void written.then(item.settle);
    return written;
  }

  /** Appends to the journal; a disk that refuses the write loses those updates, loudly. */
  #append(entries: JournalEntry[]): Promise<void> {
    return this.#journal.append(entries).catch((error: unknown) => {
      this.#logger?.error(
        { err: toError(error), updates: entries.length, dir: this.#journal.dir },
        'cannot write task updates to the queue folder; they are lost',
      );
    });
  }

  #pump(): void {
    if (this.#pumping || this.#closed) return;
    this.#pumping = true;
    let failed = false;
    this.#runPump()
      .catch((error: unknown) => {
        failed = true;
        this.#logger?.error({ err: toError(error) }, 'update queue failed (e.g. its folder is not writable); retrying');
      })
      .finally(() => {
        this.#pumping = false;
        if (this.#closed || (this.#outbox.length === 0 && !(this.#offline && this.#journal.count > 0))) return;
        if (failed) setTimeout(() => this.#pump(), this.#retryMaxDelayMs).unref();
        else this.#pump();
      });
  }

  async #runPump(): Promise<void> {
    while (!this.#closed) {
      if (this.#offline) {
        const replayed = await this.#replayJournal();
        if (!replayed) continue;
        if (await this.#journal.resetIfDelivered()) {
          this.#offline = false;
          this.#logger?.info('queued task updates delivered; sending directly again');
        }
        continue;
      }
      const head = this.#outbox[0];
      if (!head) break;
      const outcome = await this.#attempt(head.entry);
      if (outcome === 'retry') {
        if (this.#closed) break;
        this.#logger?.warn('manager unreachable; keeping task updates on disk until it is back');
        this.#outages++;
        await this.#goOffline();
        await this.#backoff();
        continue;
      }
      if (this.#outbox[0] === head) this.#outbox.shift();
      head.settle();
    }
    this.#notifyIdle();
  }

  /** Sends journal lines from the cursor; false when it stopped to wait for the manager. */
  async #replayJournal(): Promise<boolean> {
    const { entries } = await this.#journal.read();
    let delivered = 0;
    let end = this.#journal.cursor;
    for (const { entry, end: lineEnd } of entries) {
      if (this.#closed) break;
      if (entry === undefined) {
        this.#logger?.warn('skipping an unreadable line in the update journal');
      } else {
        const outcome = await this.#attempt(entry);
        if (outcome === 'retry') {
          await this.#journal.advance(end, delivered);
          await this.#backoff();
          return false;
        }
      }
      delivered++;
      end = lineEnd;
      // Move the cursor as we go, so a crash mid-replay repeats little.
      if (delivered % 20 === 0) {
        await this.#journal.advance(end, delivered);
        delivered = 0;
      }
    }
    await this.#journal.advance(end, delivered);
    return !this.#closed;
  }

  async #attempt(entry: JournalEntry): Promise<Outcome> {
    if (this.#dropped.has(entry.taskId)) return 'dropped';
    const controller = new AbortController();
    this.#inFlight = controller;
    try {
      await this.#send(entry.taskId, entry.update, controller.signal);
      this.#retryDelay = this.#retryMinDelayMs;
      return 'delivered';
    } catch (error) {
      if (this.#closed) return 'retry';
      if (error instanceof ApiError && (error.status === 409 || error.status === 404)) {
        this.#logger?.info(
          { taskId: entry.taskId, status: error.status, reason: error.message },
          'the manager took this task away (canceled, requeued or given to another worker); dropping its updates',
        );
        this.#drop(entry.taskId);
        return 'dropped';
      }
      if (error instanceof ApiError && !isRetryable(error)) {
        this.#logger?.error(
          { taskId: entry.taskId, status: error.status, code: error.code, reason: error.message },
          'the manager refused a task update; discarding it',
        );
        return 'discarded';
      }
      if (error instanceof ApiError && error.retryAfterMs !== undefined)
        this.#retryDelay = Math.max(this.#retryDelay, Math.min(error.retryAfterMs, 30_000));
      if (!isRetryable(error)) this.#logger?.warn({ err: toError(error) }, 'task update failed; will retry');
      return 'retry';
    } finally {
      if (this.#inFlight === controller) this.#inFlight = undefined;
    }
  }

  #drop(taskId: string): void {
    if (this.#dropped.size >= MAX_DROPPED) this.#dropped.delete(this.#dropped.values().next().value as string);
    this.#dropped.add(taskId);
    this.#pending.delete(taskId);
    // The head may be the entry being sent right now; the pump sees it gone and moves on.
    const mine = this.#outbox.filter((item) => item.entry.taskId === taskId);
    this.#outbox = this.#outbox.filter((item) => item.entry.taskId !== taskId);
    for (const item of mine) item.settle();
    for (const listener of this.#dropWatchers.get(taskId) ?? []) listener();
  }

  async #backoff(): Promise<void> {
    if (this.#closed) return;
    const delay = this.#retryDelay;
    this.#retryDelay = Math.min(this.#retryDelay * 2, this.#retryMaxDelayMs);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, delay);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
    this.#wake = undefined;
  }

  #notifyIdle(): void {
    if (this.backlog > 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const waiter of waiters) waiter();
  }
}
