/**
 * The managers a client may talk to (several managers of one farm share its database, so any
 * of them answers alike): `http://a:7780,http://b:7780`. Calls go to the current one; when it
 * cannot be reached, or hangs (see answer-watch.ts), the client moves to the next, and stays there
 * while it answers; so later calls of the process go to the good one first. Calls already waiting
 * on a manager that another call found hung give up on it at their first check.
 *
 * A call that failed before the manager could have acted on it (no connection was made), or
 * that changes nothing (GET), is tried on the next manager at once. Any other call that lost
 * its connection or got no answer fails as before (the caller decides whether to send it again:
 * a worker's update queue does, a CLI submission does not), and the next call goes to the next manager.
 */
import { apiBaseUrl } from './base-url.js';
import { mayHaveReachedManager } from './errors.js';

/** What the client tells about its managers as it goes (a verbose CLI prints it, a worker logs it). */
export interface ManagerObserver {
  /**
   * `manager` (API base URL) got no answer to a call; later calls go to `next` (none: the only one, or
   * every manager was passed over lately).
   * `again`: it had been passed over lately already.
   */
  passedOver?(event: { manager: string; reason: string; next: string | undefined; again: boolean }): void;
  /** `manager` answered a call with `status`. */
  answered?(event: { manager: string; method: string; path: string; status: number }): void;
}

/** A manager passed over again within this is old news (`again`). */
const PASSED_OVER_MEMORY_MS = 5 * 60_000;

/** Splits a comma-separated list of managers ("a:7780, b:7780"), dropping empty items. */
function splitManagerList(given: string): string[] {
  return given
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

export class ManagerUrls {
  /** API base URLs (with /api/v1), in the order given, without repeats. */
  readonly all: readonly string[];
  readonly observer: ManagerObserver;
  #current = 0;
  /** When each manager was last passed over (Date.now()). */
  readonly #passedOverAt = new Map<string, number>();

  constructor(given: string | readonly string[], observer: ManagerObserver = {}) {
    const items = typeof given === 'string' ? splitManagerList(given) : given.flatMap(splitManagerList);
    if (items.length === 0) throw new TypeError('no manager URL given');
    this.all = [...new Set(items.map(apiBaseUrl))];
    this.observer = observer;
  }

  get current(): string {
    return this.all[this.#current] as string;
  }

  /** The call to `base` got no answer (`reason`): later calls go to the next manager (unless another call moved on already). */
  moveFrom(base: string, reason = 'no answer'): void {
    const now = Date.now();
    const again = this.#passedOverLately(base, now);
    this.#passedOverAt.set(base, now);
    if (this.all.length > 1 && this.current === base) this.#current = (this.#current + 1) % this.all.length;
    // No next once every manager was passed over lately: later calls start again from this one.
    const next = this.all.length > 1 && !this.#passedOverLately(this.current, now) ? this.current : undefined;
    this.observer.passedOver?.({ manager: base, reason, next, again });
  }

  /** When `base` was last passed over, if it was. */
  passedOverAt(base: string): number | undefined {
    return this.#passedOverAt.get(base);
  }

  /** The base URL a request URL was sent to, if one of these. */
  baseOf(url: string): string | undefined {
    return this.all.find((base) => url.startsWith(base));
  }

  /** Whether a call that failed with `error` (no answer) may go to the next manager at once. */
  static retryElsewhere(method: string, error: unknown, replayable: boolean): boolean {
    if (!replayable) return false;
    return method === 'GET' || !mayHaveReachedManager(error);
  }

  #passedOverLately(base: string, now: number): boolean {
    const at = this.#passedOverAt.get(base);
    return at !== undefined && now - at < PASSED_OVER_MEMORY_MS;
  }
}
