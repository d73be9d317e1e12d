/**
 * The resolution chain as the worker and the CLI run it: services.cfg under the home, multicast
 * self-discovery unless `KILN_SELF_DISCOVERY=off`, and DNS-SD unless `KILN_DNS_SD=off` (tests set
 * both so nothing goes out on the host's own interfaces).
 */
import { ensureHostIdentity } from '../config/host-identity.js';
import { discoverOnce } from './discover-once.js';
import { browseDnsSd } from './dns-sd.js';
import { resolveManager, type ResolvedManager, type ResolveManagerSteps } from './resolve-manager.js';
import { readServicesEntries, servicesFilePath } from './services-store.js';
import type { ServiceEntry } from './types.js';

export interface FindManagerOptions {
  home: string;
  flag?: string | undefined;
  config?: string | undefined;
  multicast?: (() => Promise<ServiceEntry[]>) | undefined;
  /** How long DNS-SD listens for a manager (default 2 s: a publisher already up answers in ~20 ms). */
  dnsSdTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  onStep?: ResolveManagerSteps['onStep'];
}

const OFF = new Set(['0', 'off', 'false', 'no']);

/** False when `KILN_DNS_SD` is off, 0, false or no (the tests' environment). */
export function dnsSdEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return !OFF.has((env.KILN_DNS_SD ?? '').trim().toLowerCase());
}

/** False when `KILN_SELF_DISCOVERY` is off, 0, false or no (the tests' environment). */
export function selfDiscoveryEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return !OFF.has((env.KILN_SELF_DISCOVERY ?? '').trim().toLowerCase());
}

/** Managers that answer a multicast query under this home's network.cfg (the first one ends the wait). */
async function multicastManagers(home: string, timeoutMs: number): Promise<ServiceEntry[]> {
  const network = await ensureHostIdentity(home);
  return (await discoverOnce({ network, kind: 'manager', timeoutMs, first: true })).entries;
}

function standardSteps(options: FindManagerOptions): ResolveManagerSteps {
  const timeoutMs = options.dnsSdTimeoutMs ?? 2000;
  const multicast =
    options.multicast ??
    (selfDiscoveryEnabled(options.env) ? () => multicastManagers(options.home, timeoutMs) : undefined);
  return {
    flag: options.flag,
    config: options.config,
    servicesFile: () => readServicesEntries(servicesFilePath(options.home)),
    ...(multicast ? { multicast } : {}),
    ...(dnsSdEnabled(options.env)
      ? { dnsSd: () => browseDnsSd({ kind: 'manager', timeoutMs, untilFirst: true }) }
      : {}),
    ...(options.onStep ? { onStep: options.onStep } : {}),
  };
}

export function findManager(options: FindManagerOptions): Promise<ResolvedManager> {
  return resolveManager(standardSteps(options));
}
