/**
 * Every task update the worker sends goes through this queue:
 *
 * - progress, activity and log lines are batched per task and sent at most every
 *   `flushIntervalMs` (or at once when a batch holds `batchLines` lines); a status change is sent
 *   at once, after (and merged with) whatever its task had pending (update-batcher.ts);
 * - updates go out one at a time, in the order they were made;
 * - while the manager is unreachable or answers 5xx, updates are appended to an on-disk journal
 *   (update-journal.ts) and replayed in order, with backoff, when it is back; a worker restart in
 *   between loses nothing, since the next queue opened on the same folder carries on
 *   (update-delivery.ts);
 * - 409 (another worker holds the task now) or 404 (the task is gone) drops that task's queued
 *   updates and tells whoever watches the task (the task runner then stops it; dropped-tasks.ts).
 *
 * This class only wires those parts together and numbers the updates.
 */
import type { Logger } from 'pino';
import { Backoff, type RetryClock } from './backoff.js';
import { DroppedTasks } from './dropped-tasks.js';
import { IdleWaiters } from './idle-waiters.js';
import type { SendUpdate } from './update-attempt.js';
import {
  MAX_ACTIVITY,
  batchUpdate,
  mergeBatch,
  printable,
  splitLog,
  truncate,
  type StatusUpdate,
} from './update-batch.js';
import { UpdateBatcher } from './update-batcher.js';
import { UpdateDelivery } from './update-delivery.js';
import { UpdateJournal, type JournalEntry } from './update-journal.js';

export interface UpdateQueueOptions {
  /** Folder of the journal, e.g. `<home>/worker-queue`. */
  dir: string;
  send: SendUpdate;
  logger?: Logger | undefined;
  flushIntervalMs?: number | undefined;
  batchLines?: number | undefined;
  retryMinDelayMs?: number | undefined;
  retryMaxDelayMs?: number | undefined;
  /** What retries wait on (tests hurry it). */
  clock?: RetryClock | undefined;
}

export class UpdateQueue {
  readonly #journal: UpdateJournal;
  readonly #batcher: UpdateBatcher;
  readonly #delivery: UpdateDelivery;
  readonly #dropped = new DroppedTasks();
  readonly #idle = new IdleWaiters();
  #closed = false;

  private constructor(journal: UpdateJournal, options: UpdateQueueOptions) {
    this.#journal = journal;
    this.#batcher = new UpdateBatcher({
      intervalMs: options.flushIntervalMs ?? 250,
      batchLines: options.batchLines ?? 100,
      onDue: () => void this.flush(),
    });
    this.#delivery = new UpdateDelivery({
      journal,
      send: options.send,
      logger: options.logger,
      backoff: new Backoff(options.retryMinDelayMs ?? 250, options.retryMaxDelayMs ?? 5000, options.clock),
      isDropped: (taskId) => this.#dropped.has(taskId),
      onDropped: (taskId) => this.#drop(taskId),
      onIdle: () => {
        if (this.backlog === 0) this.#idle.notify();
      },
    });
  }

  /** Opens the queue on its folder; updates a previous run left there are replayed at once. */
  static async open(options: UpdateQueueOptions): Promise<UpdateQueue> {
    const queue = new UpdateQueue(await UpdateJournal.open(options.dir), options);
    queue.#delivery.resume();
    return queue;
  }

  /** Updates not yet delivered (batched, on their way, or on disk). */
  get backlog(): number {
    return this.#batcher.waiting + this.#delivery.size;
  }

  /** False while updates are being kept on disk because the manager could not be reached. */
  get online(): boolean {
    return this.#delivery.online;
  }

  /** How many times sending failed and the queue went to disk (the worker signs on again after one). */
  get outages(): number {
    return this.#delivery.outages;
  }

  // ---- batched updates

  progress(taskId: string, progress: number, activity?: string): void {
    if (this.#accepts(taskId)) this.#batcher.progress(taskId, progress, activity);
  }

  activity(taskId: string, activity: string): void {
    if (this.#accepts(taskId)) this.#batcher.activity(taskId, activity);
  }

  log(taskId: string, ...lines: string[]): void {
    if (!this.#accepts(taskId) || lines.length === 0) return;
    if (this.#batcher.log(taskId, lines)) void this.flush(taskId);
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
    return this.#enqueue(taskId, mergeBatch(this.#batcher.take(taskId), clean));
  }

  /** Sends what is batched (for one task, or all); resolves once it is delivered or on disk. */
  flush(taskId?: string): Promise<void> {
    const ids = taskId === undefined ? this.#batcher.taskIds() : [taskId];
    const sent: Array<Promise<void>> = [];
    for (const id of ids) {
      const update = batchUpdate(this.#batcher.take(id));
      if (update) sent.push(this.#enqueue(id, update));
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
    const idle = this.#idle.wait(options);
    this.kick();
    return idle;
  }

  /** Retry now instead of waiting out the backoff (e.g. the manager answered another call). */
  kick(): void {
    this.#delivery.kick();
  }

  // ---- dropped tasks

  /** Calls `listener` when the manager says this worker does not hold the task (409/404). */
  watchDrop(taskId: string, listener: () => void): () => void {
    return this.#dropped.watch(taskId, listener);
  }

  isDropped(taskId: string): boolean {
    return this.#dropped.has(taskId);
  }

  /** The task was assigned to this worker (again): accept its updates even if it was dropped before. */
  beginTask(taskId: string): void {
    this.#dropped.forget(taskId);
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
    this.#batcher.stop();
    await this.#delivery.close();
    await flushed;
  }

  #accepts(taskId: string): boolean {
    return !this.#closed && !this.#dropped.has(taskId);
  }

  /** Numbers the update (split when its log is too long for one request) and hands it to delivery. */
  #enqueue(taskId: string, update: StatusUpdate): Promise<void> {
    const entries = splitLog(update).map((part): JournalEntry => {
      const seq = this.#journal.nextSeq();
      return { seq, taskId, update: { ...part, seq } };
    });
    return this.#delivery.enqueue(entries);
  }

  #drop(taskId: string): void {
    this.#dropped.add(taskId);
    this.#batcher.take(taskId);
    this.#delivery.discard(taskId);
    this.#dropped.notify(taskId);
  }
}
