/** Callers waiting for the update queue to have nothing left to deliver (`drain`). */
export class IdleWaiters {
  #waiters: Array<() => void> = [];

  /** Resolves true when `notify()` comes, false when `timeoutMs` passes or the signal aborts first. */
  wait(options: { timeoutMs?: number | undefined; signal?: AbortSignal | undefined } = {}): Promise<boolean> {
    const { timeoutMs, signal } = options;
    return new Promise<boolean>((resolve) => {
      let done = false;
      const finish = (value: boolean): void => {
        if (done) return;
        done = true;
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#waiters = this.#waiters.filter((waiter) => waiter !== onIdle);
        resolve(value);
      };
      const onIdle = (): void => finish(true);
      const onAbort = (): void => finish(false);
      const timer = timeoutMs === undefined ? undefined : setTimeout(() => finish(false), timeoutMs);
      if (signal?.aborted) return finish(false);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(onIdle);
    });
  }

  notify(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter();
  }
}
