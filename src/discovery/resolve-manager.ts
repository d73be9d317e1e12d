/**
 * Finding the manager, in the order ARCHITECTURE.md gives: the flag, then configuration, then
 * services.cfg, then multicast self-discovery, then DNS-SD. The first step that names a manager
 * wins; listed entries (services.cfg) must also answer, since the file may be stale. Each
 * discovery step is a function the caller passes, so tests and the worker choose what runs.
 */
import { DEFAULT_MANAGER_PORT } from '../config/ports.js';
import { UserError } from '../util/errors.js';
import { mainPort } from './dns-sd-records.js';
import { probeManager, urlHost } from './probes.js';
import type { EntrySource, ServiceEntry } from './types.js';

export interface ResolvedManager {
  /** e.g. http://192.168.0.14:7780; several managers of one farm found at once: comma-separated. */
  url: string;
  source: EntrySource;
  entry?: ServiceEntry;
}

export interface ResolveManagerSteps {
  /** `--manager`. */
  flag?: string | undefined;
  /** A configured manager (worker.yaml `manager`, `KILN_MANAGER`). */
  config?: string | undefined;
  /** Managers listed in services.cfg. */
  servicesFile?: () => Promise<ServiceEntry[]>;
  /** Multicast self-discovery (`discoverOnce({ kind: 'manager', timeoutMs })`). */
  multicast?: () => Promise<ServiceEntry[]>;
  /** DNS-SD (`browseDnsSd({ kind: 'manager', timeoutMs, untilFirst: true })`). */
  dnsSd?: () => Promise<ServiceEntry[]>;
  /** How long a listed manager may take to answer (default 1 s). */
  probeTimeoutMs?: number;
  /** Told which step is tried and what it gave (for logs and `--verbose`). */
  onStep?: (source: EntrySource, outcome: string) => void;
}

/**
 * "farm", "farm:7780", "http://farm:7780", "[::1]" as a URL; a bare host gets port 7780. A
 * comma-separated list (several managers of one farm) gives the list of their URLs, comma-separated.
 */
export function managerUrlOf(given: string): string {
  return given
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '')
    .map(oneManagerUrl)
    .join(',');
}

function oneManagerUrl(trimmed: string): string {
  if (trimmed.includes('://')) return trimmed;
  const hasPort = /:\d+$/.test(trimmed) && !/^\[[^\]]*\]$/.test(trimmed) && !/^[^[]*:.*:/.test(trimmed);
  return `http://${hasPort ? trimmed : `${urlHost(trimmed)}:${DEFAULT_MANAGER_PORT}`}`;
}

export async function resolveManager(steps: ResolveManagerSteps): Promise<ResolvedManager> {
  const note = steps.onStep ?? (() => undefined);
  if (steps.flag?.trim()) return { url: managerUrlOf(steps.flag), source: 'flag' };
  if (steps.config?.trim()) return { url: managerUrlOf(steps.config), source: 'config' };
  const tried: string[] = ['no --manager, KILN_MANAGER or configured manager'];
  const discovered: Array<[EntrySource, (() => Promise<ServiceEntry[]>) | undefined, boolean]> = [
    ['services.cfg', steps.servicesFile, true],
    ['multicast', steps.multicast, false],
    ['dns-sd', steps.dnsSd, false],
  ];
  for (const [source, find, mustAnswer] of discovered) {
    if (!find) continue;
    let entries: ServiceEntry[];
    try {
      entries = (await find()).filter((entry) => entry.kind === 'manager');
    } catch (error) {
      note(source, `failed: ${(error as Error).message}`);
      tried.push(`${source} failed (${(error as Error).message})`);
      continue;
    }
    // Every manager the step names (several managers may serve one farm); the client moves between them.
    const urls = mustAnswer
      ? await everyAnswering(entries, steps.probeTimeoutMs ?? 1000)
      : [...new Set(entries.flatMap((entry) => urlsOf(entry).slice(0, 1)))];
    const url = urls.length ? urls.join(',') : undefined;
    const entry = entries.find((candidate) => urls[0] !== undefined && urlsOf(candidate).includes(urls[0]));
    note(source, url ? `found ${url}` : `none of ${entries.length} answered`);
    if (url) return { url, source, ...(entry ? { entry } : {}) };
    tried.push(entries.length > 0 ? `${source}: ${entries.length} listed, none answering` : `none in ${source}`);
  }
  throw new UserError(`no manager found: ${tried.join('; ')} (pass --manager URL)`, { code: 'no_manager' });
}

/** Every URL an entry may be reached at, in its address order. */
function urlsOf(entry: ServiceEntry): string[] {
  const port = mainPort(entry);
  return entry.addresses.map((address) => `http://${urlHost(address)}:${port}`);
}

/** For each entry (in order), the first of its URLs where a Kiln manager answers; probed all at once. */
async function everyAnswering(entries: ServiceEntry[], timeoutMs: number): Promise<string[]> {
  const candidates = entries.flatMap((entry, index) =>
    entry.addresses.map((address) => ({ index, address, port: mainPort(entry), url: '' })),
  );
  for (const candidate of candidates) candidate.url = `http://${urlHost(candidate.address)}:${candidate.port}`;
  const answers = await Promise.all(candidates.map((c) => probeManager(c.address, c.port, timeoutMs)));
  const answering = candidates.filter((_, i) => answers[i] !== undefined);
  const firstPerEntry = entries.map((_, index) => answering.find((c) => c.index === index)?.url);
  return [...new Set(firstPerEntry.filter((url): url is string => url !== undefined))];
}
