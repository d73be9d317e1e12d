/**
 * Coalesces lookups by key into one fetch of many keys, the way group commit coalesces
 * writes: a lookup made while a fetch is in flight waits for the next fetch, which takes
 * every key asked for meanwhile. An idle loader fetches at the end of this turn of the event
 * loop (setImmediate: no timer, so no added wait), taking every lookup the turn's I/O made (a
 * burst of requests read at once); a busy one answers hundreds of callers with one query.
 */
export class BatchLoader<K, V> {
  #pending = new Map<K, Array<{ resolve: (value: V | undefined) => void; reject: (error: unknown) => void }>>();
  #inFlight = false;

  constructor(
    private readonly fetchMany: (keys: K[]) => Promise<Map<K, V>>,
    private readonly maxBatch = 1000,
  ) {}

  /** The value for `key`, or undefined when the fetch found none. */
  load(key: K): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      const waiting = this.#pending.get(key);
      if (waiting) waiting.push({ resolve, reject });
      else this.#pending.set(key, [{ resolve, reject }]);
      if (!this.#inFlight) {
        this.#inFlight = true;
        setImmediate(() => void this.#drain());
      }
    });
  }

  async #drain(): Promise<void> {
    try {
      while (this.#pending.size > 0) {
        const batch = new Map<
          K,
          Array<{ resolve: (value: V | undefined) => void; reject: (error: unknown) => void }>
        >();
        for (const [key, waiting] of this.#pending) {
          if (batch.size >= this.maxBatch) break;
          batch.set(key, waiting);
        }
        for (const key of batch.keys()) this.#pending.delete(key);
        try {
          const found = await this.fetchMany([...batch.keys()]);
          for (const [key, waiting] of batch) for (const caller of waiting) caller.resolve(found.get(key));
        } catch (error) {
          for (const waiting of batch.values()) for (const caller of waiting) caller.reject(error);
        }
      }
    } finally {
      this.#inFlight = false;
    }
  }
}
