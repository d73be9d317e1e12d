/** Waiting between attempts to reach the manager: doubling delays, and the clock they are waited on. */
import { pause } from '../util/time.js';

/** How the worker waits between retries; tests pass one that records the waits and hurries them. */
export interface RetryClock {
  /** Waits `ms`; false when the signal aborted first. */
  pause(ms: number, signal?: AbortSignal): Promise<boolean>;
}

export const realClock: RetryClock = { pause };

/** Doubling delays from `minMs`, capped at `maxMs`; `reset()` after a success. */
export class Backoff {
  #next: number;
  /** Ends the wait in progress early (see `wake`). */
  #waking: AbortController | undefined;

  constructor(
    readonly minMs: number,
    readonly maxMs: number,
    readonly clock: RetryClock = realClock,
  ) {
    this.#next = minMs;
  }

  /** The delay to wait now (also moves on to the next one); a server's `Retry-After` may lengthen it up to `maxMs`. */
  next(hintMs?: number): number {
    const delay = Math.min(Math.max(this.#next, hintMs ?? 0), this.maxMs);
    this.#next = Math.min(this.#next * 2, this.maxMs);
    return delay;
  }

  reset(): void {
    this.#next = this.minMs;
  }

  /** Waits the next delay on the clock; false when `signal` aborted (a `wake()` ends it with true). */
  async wait(signal?: AbortSignal, hintMs?: number): Promise<boolean> {
    const delay = this.next(hintMs);
    const waking = new AbortController();
    this.#waking = waking;
    try {
      await this.clock.pause(delay, signal ? AbortSignal.any([signal, waking.signal]) : waking.signal);
      return !signal?.aborted;
    } finally {
      if (this.#waking === waking) this.#waking = undefined;
    }
  }

  /** Starts over from `minMs` and ends the wait in progress: try again now. */
  wake(): void {
    this.reset();
    this.#waking?.abort();
  }
}
