/**
 * The managers a client may talk to (several managers of one farm share its database, so any
 * of them answers alike): `http://a:7780,http://b:7780`. Calls go to the current one; when it
 * cannot be reached, the client moves to the next, and stays there while it answers.
 *
 * A call that failed before the manager could have acted on it (no connection was made), or
 * that changes nothing (GET), is tried on the next manager at once. Any other call that lost
 * its connection fails as before (the caller decides whether to send it again: a worker's
 * update queue does, a CLI submission does not), and the next call goes to the next manager.
 */
import { apiBaseUrl } from './base-url.js';
import { networkErrorCode } from './errors.js';

/** Splits a comma-separated list of managers ("a:7780, b:7780"), dropping empty items. */
function splitManagerList(given: string): string[] {
  return given
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** Failures where no connection was made: the manager never saw the request. */
const NOT_CONNECTED = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
]);

export class ManagerUrls {
  /** API base URLs (with /api/v1), in the order given, without repeats. */
  readonly all: readonly string[];
  #current = 0;

  constructor(given: string | readonly string[]) {
    const items = typeof given === 'string' ? splitManagerList(given) : given.flatMap(splitManagerList);
    if (items.length === 0) throw new TypeError('no manager URL given');
    this.all = [...new Set(items.map(apiBaseUrl))];
  }

  get current(): string {
    return this.all[this.#current] as string;
  }

  /** The call to `base` got no answer: later calls go to the next manager (unless another call moved on already). */
  moveFrom(base: string): void {
    if (this.all.length > 1 && this.current === base) this.#current = (this.#current + 1) % this.all.length;
  }

  /** The base URL a request URL was sent to, if one of these. */
  baseOf(url: string): string | undefined {
    return this.all.find((base) => url.startsWith(base));
  }

  /** Whether a call that failed with `error` (no answer) may go to the next manager at once. */
  static retryElsewhere(method: string, error: unknown, replayable: boolean): boolean {
    if (!replayable) return false;
    const code = networkErrorCode(error);
    return method === 'GET' || (code !== undefined && NOT_CONNECTED.has(code));
  }
}
