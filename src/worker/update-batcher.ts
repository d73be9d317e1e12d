/**
 * The update queue's first stage: progress, activity and log lines collected per task between
 * two sends. A batch is due when the flush interval passes (one timer for all tasks) or, for log
 * lines, when it holds `batchLines` lines.
 */
import { MAX_ACTIVITY, clamp01, printable, truncate, type Pending } from './update-batch.js';

export class UpdateBatcher {
  readonly #pending = new Map<string, Pending>();
  readonly #intervalMs: number;
  readonly #batchLines: number;
  /** Called when the interval is up: the owner flushes every batch. */
  readonly #onDue: () => void;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: { intervalMs: number; batchLines: number; onDue: () => void }) {
    this.#intervalMs = options.intervalMs;
    this.#batchLines = options.batchLines;
    this.#onDue = options.onDue;
  }

  /** Batches holding something to send. */
  get waiting(): number {
    let count = 0;
    for (const batch of this.#pending.values())
      if (batch.log.length || batch.progress !== undefined || batch.activity !== undefined) count++;
    return count;
  }

  /** Ids of the tasks with a batch. */
  taskIds(): string[] {
    return [...this.#pending.keys()];
  }

  progress(taskId: string, progress: number, activity?: string): void {
    const batch = this.#batch(taskId);
    batch.progress = clamp01(progress);
    if (activity !== undefined) batch.activity = truncate(printable(activity), MAX_ACTIVITY);
    this.#schedule();
  }

  activity(taskId: string, activity: string): void {
    this.#batch(taskId).activity = truncate(printable(activity), MAX_ACTIVITY);
    this.#schedule();
  }

  /** Adds log lines; true when the batch is full and should be sent now. */
  log(taskId: string, lines: readonly string[]): boolean {
    const batch = this.#batch(taskId);
    for (const line of lines) batch.log.push(printable(line));
    if (batch.log.length >= this.#batchLines) return true;
    this.#schedule();
    return false;
  }

  /** Removes and returns a task's batch. */
  take(taskId: string): Pending | undefined {
    const batch = this.#pending.get(taskId);
    this.#pending.delete(taskId);
    if (this.#pending.size === 0) this.#clearTimer();
    return batch;
  }

  /** No more timers: what is batched stays until taken. */
  stop(): void {
    this.#stopped = true;
    this.#clearTimer();
  }

  #batch(taskId: string): Pending {
    const batch = this.#pending.get(taskId) ?? { log: [] };
    this.#pending.set(taskId, batch);
    return batch;
  }

  #schedule(): void {
    if (this.#timer || this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#onDue();
    }, this.#intervalMs);
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
