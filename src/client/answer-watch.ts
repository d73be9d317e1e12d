/**
 * Whether a manager that keeps a call waiting is alive. A stopped (SIGSTOP) or wedged manager
 * still accepts connections (the kernel completes them), so only an answer tells. When a call's
 * first answer (its response headers) has not come within `firstAnswerMs`, the manager is asked
 * GET /version: an answer within `firstAnswerMs` means it is alive and the call merely takes its
 * time (a long poll waits on purpose, a large job compiles, an upload streams), and the question is
 * asked again every `probeIntervalMs` while the call waits. No answer to it: the manager hung, and
 * the watch aborts the call, so the client can go on with another manager instead of waiting out
 * the call's whole time limit.
 */

/** A call without its first answer this long gets its manager asked whether it is alive; the question's limit too. */
export const DEFAULT_FIRST_ANSWER_MS = 3_000;
/** While a call still waits, its manager is asked again this often. */
export const DEFAULT_PROBE_INTERVAL_MS = 10_000;

export interface AnswerWatchOptions {
  /** Asks the manager something quick; resolves on any HTTP answer, rejects on none (or on abort). */
  probe: (signal: AbortSignal) => Promise<unknown>;
  firstAnswerMs: number;
  probeIntervalMs: number;
  /** The client gave up on this manager meanwhile (another call found it hung): no need to ask. */
  givenUp?: () => boolean;
}

export class AnswerWatch {
  readonly #controller = new AbortController();
  readonly #options: AnswerWatchOptions;
  readonly #startedAt = Date.now();
  #timer: NodeJS.Timeout | undefined;
  #probe: AbortController | undefined;
  #answered = false;
  #hung: Error | undefined;

  constructor(options: AnswerWatchOptions) {
    this.#options = options;
    this.#schedule(options.firstAnswerMs);
  }

  /** Aborts when the manager hung. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Why the manager counts as hung, once it does. */
  get hung(): Error | undefined {
    return this.#hung;
  }

  /** The call's first answer came (or the call ended): the watch stops. */
  answered(): void {
    this.#answered = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#probe?.abort();
  }

  #schedule(ms: number): void {
    this.#timer = setTimeout(() => void this.#check(), ms);
    // The call itself keeps the process alive while it waits; the watch must not.
    this.#timer.unref();
  }

  async #check(): Promise<void> {
    if (this.#answered) return;
    if (this.#options.givenUp?.()) {
      this.#giveUp(`no answer within ${this.#waited()} ms, and another call found the manager not answering`);
      return;
    }
    const { firstAnswerMs } = this.#options;
    this.#probe = new AbortController();
    const limit = setTimeout(() => this.#probe?.abort(), firstAnswerMs);
    limit.unref();
    try {
      await this.#options.probe(this.#probe.signal);
    } catch {
      if (!this.#answered)
        this.#giveUp(
          `no answer within ${this.#waited()} ms, nor to GET /version within ${firstAnswerMs} ms (the manager hangs)`,
        );
      return;
    } finally {
      clearTimeout(limit);
    }
    if (!this.#answered) this.#schedule(this.#options.probeIntervalMs);
  }

  #waited(): number {
    return Date.now() - this.#startedAt;
  }

  #giveUp(reason: string): void {
    this.#hung = new Error(reason);
    this.#controller.abort(this.#hung);
  }
}
