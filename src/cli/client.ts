/**
 * How the CLI talks to the manager: which manager (`--manager`, `KILN_MANAGER`, the default),
 * which API token (`KILN_TOKEN`, `<home>/api-token`), and the one place where the client's
 * failures become one-line messages a user can act on.
 */
import { managerUrlOf } from '../discovery/resolve-manager.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import {
  ApiClient,
  ApiError,
  ManagerUnreachableError,
  ProtocolError,
  API_PREFIX,
  mayHaveReachedManager,
  networkErrorCode,
  type ManagerObserver,
  type ServerEvent,
} from '../client/index.js';
import { unknownOutcomeMessage } from './unknown-outcome.js';
import { resolveHome } from '../config/home.js';
import { DEFAULT_MANAGER_PORT } from '../config/ports.js';
import { UserError, isErrnoException } from '../util/errors.js';
import { SECOND, pause } from '../util/time.js';
import { withCommonOptions } from './options.js';

export const DEFAULT_MANAGER_URL = `http://127.0.0.1:${DEFAULT_MANAGER_PORT}`;

/** Flags every command that talks to the manager takes. */
export interface ManagerFlags {
  home?: string;
  manager?: string;
  json?: boolean;
  /** Say on stderr which manager answered each call, and which were passed over and why. */
  verbose?: boolean;
}

/** Adds `--manager`, `--json` and the common options. */
export function withManagerOptions(command: Command): Command {
  return withCommonOptions(command)
    .addOption(
      new Option(
        '--manager <url>',
        `the manager, or several of one farm comma-separated (tried in turn) (default: $KILN_MANAGER, else one answering on this host, in services.cfg, by multicast or DNS-SD, else ${DEFAULT_MANAGER_URL})`,
      ),
    )
    .option('--json', 'print JSON instead of text')
    .option('--verbose', 'say on stderr which manager answered each call, and which were passed over and why');
}

/** `--verbose`: one `kiln: ...` line on stderr per call answered and per manager passed over. */
const VERBOSE_NOTES: ManagerObserver = {
  passedOver: ({ manager, reason, next }) =>
    process.stderr.write(
      `kiln: passed over the manager at ${withoutPrefix(manager)}: ${reason}${next && next !== manager ? `; next: ${withoutPrefix(next)}` : ''}\n`,
    ),
  answered: ({ manager, method, path, status }) =>
    process.stderr.write(`kiln: ${method} ${path} answered ${status} by the manager at ${withoutPrefix(manager)}\n`),
};

const withoutPrefix = (base: string): string => (base.endsWith(API_PREFIX) ? base.slice(0, -API_PREFIX.length) : base);

/** The manager's URL: `--manager`, else `$KILN_MANAGER`, else the local default. A bare host gets port 7780. */
export function managerUrl(flags: Pick<ManagerFlags, 'manager'>): string {
  const given = (flags.manager ?? process.env.KILN_MANAGER ?? '').trim();
  return given === '' ? DEFAULT_MANAGER_URL : managerUrlOf(given);
}

/**
 * The manager to talk to: `--manager` or `$KILN_MANAGER` as given; else one answering on this
 * host; else services.cfg, multicast (once merged) and DNS-SD; else this host's default, so the
 * error names an address the user can check.
 */
async function chooseManager(flags: ManagerFlags): Promise<string> {
  const given = (flags.manager ?? process.env.KILN_MANAGER ?? '').trim();
  if (given !== '') return given;
  const { probeManager } = await import('../discovery/probes.js');
  if (await probeManager('127.0.0.1', DEFAULT_MANAGER_PORT, 500)) return DEFAULT_MANAGER_URL;
  const { findManager } = await import('../discovery/find-manager.js');
  try {
    return (await findManager({ home: resolveHome(flags.home), dnsSdTimeoutMs: 1500 })).url;
  } catch (error) {
    if (error instanceof UserError) return DEFAULT_MANAGER_URL;
    throw error;
  }
}

/** Where the API token came from, so a refused token can be explained. */
export interface ApiToken {
  token: string;
  source: string;
}

/** `$KILN_TOKEN`, else the file `kiln manager token` wrote in this machine's home. */
export function readApiToken(home: string): ApiToken | undefined {
  const fromEnv = process.env.KILN_TOKEN?.trim();
  if (fromEnv) return { token: fromEnv, source: 'KILN_TOKEN' };
  const path = join(home, 'api-token');
  try {
    const token = readFileSync(path, 'utf8').trim();
    return token ? { token, source: path } : undefined;
  } catch (error) {
    if (isErrnoException(error, 'ENOENT') || isErrnoException(error, 'ENOTDIR')) return undefined;
    throw new UserError(
      `cannot read the API token in ${path}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/** The CLI's view of one manager: the typed client plus what error messages need to know. */
export interface CliClient {
  api: ApiClient;
  /** The manager as the user named it, without `/api/v1` (several: comma-separated). */
  url: string;
  home: string;
  token: ApiToken | undefined;
}

export function cliClient(flags: ManagerFlags): CliClient {
  const home = resolveHome(flags.home);
  const url = managerUrl(flags);
  const token = readApiToken(home);
  let api: ApiClient;
  try {
    api = new ApiClient({
      baseUrl: url,
      apiToken: token?.token,
      ...(flags.verbose ? { observer: VERBOSE_NOTES } : {}),
    });
  } catch {
    throw new UserError(`not a manager URL: "${url}" (expected e.g. http://farm:7780)`, { field: 'manager' });
  }
  return {
    api,
    url: api.managers.all.map(withoutPrefix).join(','),
    home,
    token,
  };
}

/**
 * Runs a command's work against the manager; the client's failures come out as one-line
 * UserErrors. `fieldHint` names the command-line option behind an API field (e.g. chunkSize → --chunk).
 */
export async function withManager<T>(
  flags: ManagerFlags,
  fn: (client: CliClient) => Promise<T>,
  fieldHint?: (field: string) => string | undefined,
): Promise<T> {
  const client = cliClient({ ...flags, manager: await chooseManager(flags) });
  try {
    return await fn(client);
  } catch (error) {
    throw explainManagerError(error, client, fieldHint);
  }
}

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
};

/** One-line UserError for a failed call to the manager; anything else is returned unchanged. */
export function explainManagerError(
  error: unknown,
  client: Pick<CliClient, 'url' | 'home' | 'token'>,
  fieldHint?: (field: string) => string | undefined,
): unknown {
  if (error instanceof UserError) return error;
  if (error instanceof ManagerUnreachableError) {
    const code = networkErrorCode(error);
    const detail = error.message.replace(/^manager unreachable \([^)]*\): /, '');
    if (error.method !== 'GET' && mayHaveReachedManager(error))
      return new UserError(unknownOutcomeMessage(error.method, error.url, (code && NETWORK_REASONS[code]) ?? detail), {
        code: 'unknown_outcome',
      });
    const reason = (code ? (NETWORK_REASONS[code] ?? code) : undefined) ?? detail;
    return new UserError(
      `cannot reach ${managersAt(client.url)}: ${reason} (start it with \`kiln manager\` or pass --manager URL)`,
      { code: 'unreachable' },
    );
  }
  if (error instanceof ProtocolError) {
    return new UserError(
      `the manager at ${client.url} sent an unexpected answer (is it a Kiln manager?): ${firstLine(error.message)}`,
      { code: 'protocol' },
    );
  }
  if (!(error instanceof ApiError)) return error;

  if (error.status === 401) {
    const fix = client.token
      ? `the manager refused the API token from ${client.token.source}; create a new one with \`kiln manager token\` on the manager's host, or set KILN_TOKEN`
      : `this needs an API token: run \`kiln manager token\` on the manager's host (it saves ${join(client.home, 'api-token')}), or set KILN_TOKEN`;
    return new UserError(fix, { code: 'unauthorized' });
  }
  if (error.code === 'no_such_endpoint') {
    return new UserError(`${client.url} does not answer like a Kiln manager (${error.message}); check --manager`, {
      code: error.code,
    });
  }
  if (error.status >= 500 && error.status !== 503) {
    return new UserError(`the manager failed: ${firstLine(error.message)}`, { code: error.code });
  }
  // "no job X" says it all; a bad value is easier to find with its field named.
  const hint = error.field === undefined ? undefined : fieldHint?.(error.field);
  const where =
    error.field === undefined || error.status === 404 ? '' : hint ? ` (${hint})` : ` (field ${error.field})`;
  return new UserError(`${readable(firstLine(error.message))}${where}`, {
    code: error.code,
    ...(error.field === undefined ? {} : { field: error.field }),
  });
}

/** Validation messages read better with an article: "must be integer" → "must be an integer". */
function readable(message: string): string {
  return message.replace(
    /\bmust be (integer|number|string|boolean|object|array)\b/,
    (_all, type: string) => `must be ${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`,
  );
}

const firstLine = (text: string): string => text.split('\n')[0] ?? '';

// ---- following changes (submit --wait, tasks log --follow)

/** With the event stream up, look when an event says so, and at least this often (for events missed while it connects). */
const FOLLOW_REFRESH_MS = 2 * SECOND;
/** Without it (it dropped, or the manager is away), look this often. */
const FOLLOW_POLL_MS = 1 * SECOND;
/** Looks are at least this far apart, however many events come. */
const FOLLOW_MIN_GAP_MS = 200;

/** A wake-up call that is not lost when it rings before anyone waits. */
class Wakeup {
  #rung = false;
  #wake: (() => void) | undefined;

  ring(): void {
    this.#rung = true;
    this.#wake?.();
  }

  /** Resolves when rung (or rung since the last wait), after `ms`, or on abort. */
  wait(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.#rung || signal?.aborted) {
      this.#rung = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.#wake = undefined;
        this.#rung = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      this.#wake = done;
    });
  }
}

/**
 * Calls `look` until it returns true or `signal` aborts. The manager's event stream (of `job`)
 * says when to look again (`wakeOn`); while it is up, `look` also runs every couple of seconds
 * for events missed while it connected, and when it drops, every second. `look` fetches what
 * it needs, so a lost or late event never loses a change.
 */
export async function followChanges(
  api: ApiClient,
  options: { job: string; wakeOn: (event: ServerEvent) => boolean; signal?: AbortSignal | undefined },
  look: () => Promise<boolean>,
): Promise<void> {
  const wakeup = new Wakeup();
  const stopStream = new AbortController();
  const { signal } = options;
  let streaming = true;
  const stream = (async () => {
    try {
      for await (const event of api.events({ job: options.job, signal: stopStream.signal })) {
        if (options.wakeOn(event)) wakeup.ring();
      }
    } catch {
      // Dropped, or never connected: poll instead.
    } finally {
      streaming = false;
      wakeup.ring();
    }
  })();
  try {
    while (!signal?.aborted) {
      if (await look()) return;
      await pause(FOLLOW_MIN_GAP_MS, signal);
      await wakeup.wait(streaming ? FOLLOW_REFRESH_MS : FOLLOW_POLL_MS, signal);
    }
  } finally {
    stopStream.abort();
    await stream;
  }
}

/** Runs `fn` with a signal that Ctrl-C aborts, instead of Ctrl-C ending the process at once. */
export async function withInterrupt<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onInterrupt = (): void => controller.abort();
  process.once('SIGINT', onInterrupt);
  try {
    return await fn(controller.signal);
  } finally {
    process.removeListener('SIGINT', onInterrupt);
  }
}

/** "the manager at A", or for a list "any of the managers at A, B". */
function managersAt(url: string): string {
  const list = url.split(',');
  return list.length > 1 ? `any of the managers at ${list.join(', ')}` : `the manager at ${url}`;
}
