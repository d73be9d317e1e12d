/**
 * The update queue's delivery stage: entries go to the manager one at a time, in the order they
 * were made. While the manager answers, they wait in memory (the outbox); when it cannot be
 * reached, everything on its way moves to the on-disk journal and is replayed from there, with
 * backoff, until the journal is empty again. A dropped task's entries are skipped.
 */
import type { Logger } from 'pino';
import { toError } from '../util/errors.js';
import type { Backoff } from './backoff.js';
import { attemptUpdate, type Outcome, type SendUpdate } from './update-attempt.js';
import type { JournalEntry, UpdateJournal } from './update-journal.js';

export interface UpdateDeliveryOptions {
  journal: UpdateJournal;
  send: SendUpdate;
  backoff: Backoff;
  logger?: Logger | undefined;
  isDropped: (taskId: string) => boolean;
  /** The manager said this worker does not hold the task (409/404). */
  onDropped: (taskId: string) => void;
  /** The pump stopped with nothing left to send. */
  onIdle: () => void;
}

interface Outgoing {
  entry: JournalEntry;
  /** Called once the entry is delivered, journaled or dropped. */
  settle: () => void;
}

/** Journal lines delivered between two cursor writes (a crash mid-replay repeats at most these). */
const CURSOR_EVERY = 20;

export class UpdateDelivery {
  readonly #options: UpdateDeliveryOptions;
  readonly #journal: UpdateJournal;
  readonly #stop = new AbortController();
  /** Entries on their way while the manager answers; empty while the journal has a backlog. */
  #outbox: Outgoing[] = [];
  /** True while updates go to the journal (the manager was not reachable). */
  #offline = false;
  #pumping = false;
  #outages = 0;

  constructor(options: UpdateDeliveryOptions) {
    this.#options = options;
    this.#journal = options.journal;
  }

  /** Starts replaying what an earlier run left in the journal, if anything. */
  resume(): void {
    if (this.#journal.count === 0) return;
    this.#offline = true;
    this.#options.logger?.info({ updates: this.#journal.count }, 'replaying task updates queued by an earlier run');
    this.#pump();
  }

  /** Entries not yet delivered (in memory or on disk). */
  get size(): number {
    return this.#outbox.length + this.#journal.count;
  }

  get online(): boolean {
    return !this.#offline;
  }

  get outages(): number {
    return this.#outages;
  }

  get #closed(): boolean {
    return this.#stop.signal.aborted;
  }

  /** Queues entries in order; resolves once each is delivered, safe on disk, or dropped. */
  enqueue(entries: readonly JournalEntry[]): Promise<void> {
    let settled: Promise<unknown>;
    if (this.#offline || this.#closed) settled = this.#append([...entries]);
    else
      settled = Promise.all(
        entries.map((entry) => new Promise<void>((settle) => this.#outbox.push({ entry, settle }))),
      );
    this.#pump();
    return settled.then(() => undefined);
  }

  /** Retry now instead of waiting out the backoff (e.g. the manager answered another call). */
  kick(): void {
    this.#options.backoff.wake();
    this.#pump();
  }

  /** Forgets a dropped task's entries still in memory (journaled ones are skipped on replay). */
  discard(taskId: string): void {
    // The head may be the entry being sent right now; the pump sees it gone and moves on.
    const mine = this.#outbox.filter((item) => item.entry.taskId === taskId);
    this.#outbox = this.#outbox.filter((item) => item.entry.taskId !== taskId);
    for (const item of mine) item.settle();
  }

  /**
   * Stops sending: what is in memory goes to the journal for the next run. A request in flight
   * is abandoned (the manager may still apply it; `seq` tells a replay apart).
   */
  async close(): Promise<void> {
    this.#stop.abort(new Error('update queue closed'));
    await this.#goOffline();
    // Let a pump that was mid-way settle its last file operation.
    await this.#journal.append([]);
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
      this.#options.logger?.error(
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
        this.#options.logger?.error(
          { err: toError(error) },
          'update queue failed (e.g. its folder is not writable); retrying',
        );
      })
      .finally(() => {
        this.#pumping = false;
        if (this.#closed || (this.#outbox.length === 0 && !(this.#offline && this.#journal.count > 0))) return;
        if (failed) setTimeout(() => this.#pump(), this.#options.backoff.maxMs).unref();
        else this.#pump();
      });
  }

  async #runPump(): Promise<void> {
    while (!this.#closed) {
      if (this.#offline) {
        if (!(await this.#replayJournal())) continue;
        if (await this.#journal.resetIfDelivered()) {
          this.#offline = false;
          this.#options.logger?.info('queued task updates delivered; sending directly again');
        }
        continue;
      }
      const head = this.#outbox[0];
      if (!head) break;
      const outcome = await this.#attempt(head.entry);
      if (outcome.kind === 'retry') {
        if (this.#closed) break;
        this.#options.logger?.warn('manager unreachable; keeping task updates on disk until it is back');
        this.#outages++;
        await this.#goOffline();
        await this.#backoff(outcome.retryAfterMs);
        continue;
      }
      if (this.#outbox[0] === head) this.#outbox.shift();
      head.settle();
    }
    this.#options.onIdle();
  }

  /** Sends journal lines from the cursor; false when it stopped to wait for the manager. */
  async #replayJournal(): Promise<boolean> {
    const { entries } = await this.#journal.read();
    let delivered = 0;
    let end = this.#journal.cursor;
    for (const { entry, end: lineEnd } of entries) {
      if (this.#closed) break;
      if (entry === undefined) {
        this.#options.logger?.warn('skipping an unreadable line in the update journal');
      } else {
        const outcome = await this.#attempt(entry);
        if (outcome.kind === 'retry') {
          await this.#journal.advance(end, delivered);
          await this.#backoff(outcome.retryAfterMs);
          return false;
        }
      }
      delivered++;
      end = lineEnd;
      // Move the cursor as we go, so a crash mid-replay repeats little.
      if (delivered % CURSOR_EVERY === 0) {
        await this.#journal.advance(end, delivered);
        delivered = 0;
      }
    }
    await this.#journal.advance(end, delivered);
    return !this.#closed;
  }

  async #attempt(entry: JournalEntry): Promise<Outcome> {
    if (this.#options.isDropped(entry.taskId)) return { kind: 'dropped' };
    const outcome = await attemptUpdate(this.#options.send, entry, this.#stop.signal, this.#options.logger);
    if (outcome.kind === 'delivered') this.#options.backoff.reset();
    if (outcome.kind === 'dropped') this.#options.onDropped(entry.taskId);
    return outcome;
  }

  async #backoff(retryAfterMs: number | undefined): Promise<void> {
    if (this.#closed) return;
    await this.#options.backoff.wait(this.#stop.signal, retryAfterMs);
  }
}
