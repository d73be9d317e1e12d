/**
 * The background side: a gate that heavy I/O passes before each chunk (`await gate.ready()`).
 * It watches the I/O priority listeners of this host and of the storage hosts configured, and is
 * closed while any of them holds. A dropped connection counts as released, and no listener means
 * no pause, so a crashed or absent foreground application never stops the farm.
 */
import { HostWatch, type IoTarget } from './host-watch.js';

/** What users of the gate need (workers, copies, Shaman): small, so tests and callers can pass their own. */
export interface IoGate {
  /** Whether background I/O should wait right now. */
  readonly paused: boolean;
  /**
   * Resolves when background I/O may go on: at once when nothing holds, else when every hold has
   * ended (or its holder dropped). Resolves with the milliseconds waited; rejects with the
   * signal's reason when `signal` aborts first.
   */
  ready(signal?: AbortSignal): Promise<number>;
  /** Called with the new state at each change; returns the unsubscribe function. */
  onChange(listener: (paused: boolean) => void): () => void;
}

export interface IoGateOptions {
  targets: readonly IoTarget[];
  /** This program, as listeners list it. */
  program: string;
  minDelayMs?: number;
  maxDelayMs?: number;
  connectTimeoutMs?: number;
}

const NOT_WAITED = Promise.resolve(0);

export class IoPriorityGate implements IoGate {
  readonly #watches: HostWatch[];
  readonly #listeners = new Set<(paused: boolean) => void>();
  #paused = false;
  #started = false;
  #settled = false;
  readonly #settledPromise: Promise<void>;
  #waiters: Array<() => void> = [];

  constructor(options: IoGateOptions) {
    this.#watches = options.targets.map(
      (target) =>
        new HostWatch({
          target,
          program: options.program,
          onChange: () => this.#update(),
          ...(options.minDelayMs === undefined ? {} : { minDelayMs: options.minDelayMs }),
          ...(options.maxDelayMs === undefined ? {} : { maxDelayMs: options.maxDelayMs }),
          ...(options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs }),
        }),
    );
    this.#settledPromise = Promise.all(this.#watches.map((watch) => watch.settled)).then(() => {
      this.#settled = true;
    });
  }

  /**
   * Connects to every target (the first ready() does it too); resolves once each has answered
   * (held or not) or turned out absent.
   */
  async start(): Promise<void> {
    if (!this.#started) {
      this.#started = true;
      for (const watch of this.#watches) watch.start();
    }
    await this.#settledPromise;
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** The hosts watched and whether each holds. */
  get hosts(): Array<IoTarget & { held: boolean }> {
    return this.#watches.map((watch) => ({ ...watch.target, held: watch.held }));
  }

  ready(signal?: AbortSignal): Promise<number> {
    if (!this.#paused && this.#settled) return NOT_WAITED;
    return this.#wait(signal);
  }

  onChange(listener: (paused: boolean) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    for (const watch of this.#watches) watch.close();
    this.#release();
  }

  async #wait(signal?: AbortSignal): Promise<number> {
    const started = performance.now();
    // A gate just started has not heard from its hosts yet: a hold already on must count.
    if (!this.#settled) await this.start();
    if (!this.#paused) return performance.now() - started;
    signal?.throwIfAborted();
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.#waiters = this.#waiters.filter((waiter) => waiter !== done);
        this.#reportWaiting();
        reject(signal?.reason);
      };
      const done = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      this.#waiters.push(done);
      if (this.#waiters.length === 1) this.#reportWaiting();
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    return performance.now() - started;
  }

  #reportWaiting(): void {
    const waiting = this.#waiters.length > 0;
    for (const watch of this.#watches) watch.setWaiting(waiting);
  }

  #update(): void {
    const paused = this.#watches.some((watch) => watch.held);
    if (paused === this.#paused) return;
    this.#paused = paused;
    if (!paused) this.#release();
    for (const listener of this.#listeners) listener(paused);
  }

  #release(): void {
    const waiters = this.#waiters;
    if (waiters.length === 0) return;
    this.#waiters = [];
    for (const waiter of waiters) waiter();
    this.#reportWaiting();
  }
}

/** A gate that never pauses: for callers given no gate. */
export const OPEN_GATE: IoGate = Object.freeze({
  paused: false,
  ready: () => NOT_WAITED,
  onChange: () => () => undefined,
});
