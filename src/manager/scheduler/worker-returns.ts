/** Entries of workers that never came back (deleted, crashed) are dropped after this long. */
const FORGET_AFTER_MS = 600_000;

/**
 * Which workers a busy scheduling round can expect back soon. A worker handed a task comes back
 * with its next request after about as long as it took the last time: milliseconds for a no-op or
 * a failing command, minutes for a render. A round lingers only for the workers expected within
 * its linger, so a farm of long tasks is never held back for workers that are busy rendering.
 */
export class WorkerReturns {
  /** Workers out with a task: when they got it. */
  readonly #out = new Map<string, number>();
  /** Per worker: how long it took from task to next request, the last time. */
  readonly #turnaround = new Map<string, number>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** The worker was handed a task. */
  handed(workerId: string): void {
    this.#out.set(workerId, this.now());
  }

  /** The worker asks for work again. */
  returned(workerId: string): void {
    const handedAt = this.#out.get(workerId);
    if (handedAt === undefined) return;
    this.#out.delete(workerId);
    this.#turnaround.set(workerId, this.now() - handedAt);
  }

  /**
   * How many workers out with a task are expected back within `withinMs`: their last turnaround
   * ends then. One overdue by more than `withinMs` is no longer counted on; one never seen coming
   * back is not counted either.
   */
  expected(withinMs: number): number {
    const now = this.now();
    let count = 0;
    for (const [workerId, handedAt] of this.#out) {
      if (now - handedAt > FORGET_AFTER_MS) {
        this.#out.delete(workerId);
        this.#turnaround.delete(workerId);
        continue;
      }
      const turnaround = this.#turnaround.get(workerId);
      if (turnaround === undefined) continue;
      const due = handedAt + turnaround - now;
      if (due <= withinMs && due >= -withinMs) count += 1;
    }
    return count;
  }
}
