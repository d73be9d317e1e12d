/**
 * Lets a batch fill while the system is busy, as Kafka's linger.ms or PostgreSQL's commit_delay
 * do: a batch costs a statement and a commit whatever its size, so under load fewer, fuller
 * batches cost less per item, and several managers (each serving a share of the workers) do not
 * each pay for batches half as full. The caller decides when it is busy; an idle system never waits.
 */
export class Gathering {
  #filled: (() => void) | undefined;
  /** What the current wait waits for. */
  #waitingFor = 0;

  constructor(
    /** Items worth waiting for. */
    readonly target: number,
    /** The longest wait. */
    readonly lingerMs: number,
  ) {}

  /**
   * Waits until `size` reaches `target` (at most the constructor's; told through offer), lingerMs
   * pass, or release().
   */
  async wait(size: number, target = this.target): Promise<void> {
    this.#waitingFor = Math.min(target, this.target);
    if (size >= this.#waitingFor) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, this.lingerMs);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#filled = done;
    });
    this.#filled = undefined;
  }

  /** The batch now holds `size` items: a wait ends once it is full. */
  offer(size: number): void {
    if (size >= this.#waitingFor) this.#filled?.();
  }

  /** Ends a wait at once (shutting down). */
  release(): void {
    this.#filled?.();
  }
}
