/** Waiting between attempts to reach the manager. */

/** Sleeps `ms`; resolves false at once if the signal aborts (before or during). */
export function pause(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    function onAbort(): void {
      clearTimeout(timer);
      resolve(false);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Doubling delays from `minMs`, capped at `maxMs`; `reset()` after a success. */
export class Backoff {
  #next: number;
  constructor(
    readonly minMs: number,
    readonly maxMs: number,
  ) {
    this.#next = minMs;
  }

  /** The delay to wait now (also moves on to the next one). */
  next(hintMs?: number): number {
    const delay = Math.min(Math.max(this.#next, hintMs ?? 0), this.maxMs);
    this.#next = Math.min(this.#next * 2, this.maxMs);
    return delay;
  }

  reset(): void {
    this.#next = this.minMs;
  }
}
