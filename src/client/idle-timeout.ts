/**
 * A time limit on silence rather than on the whole call: it aborts its signal once `ms` pass
 * without `touch()`. A large upload may take an hour; a stalled one is given up within `ms`.
 */
export class IdleTimeout {
  readonly #controller = new AbortController();
  readonly #ms: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(ms: number) {
    this.#ms = ms;
    this.touch();
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get expired(): boolean {
    return this.#controller.signal.aborted;
  }

  /** Progress was made: the limit starts again. */
  touch(): void {
    if (this.expired) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#controller.abort(new Error(`no progress within ${this.#ms} ms`)), this.#ms);
    // A limit must not keep the process alive on its own.
    this.#timer.unref();
  }

  clear(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/** Passes `source` through, touching `idle` for every chunk the transport takes. */
export async function* touchingEach(source: AsyncIterable<Uint8Array>, idle: IdleTimeout): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    idle.touch();
    yield chunk;
  }
}
