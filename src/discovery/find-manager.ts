/**
 * The resolution chain as the worker and the CLI run it: services.cfg under the home, the
 * multicast step the caller passes (self-discovery lives in another module), and DNS-SD unless
 * `KILN_DNS_SD=off` (tests set it so nothing sends mDNS on the host's own interfaces).
 */
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

export function dnsSdEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return !OFF.has((env.KILN_DNS_SD ?? '').trim().toLowerCase());
}

export function standardSteps(options: FindManagerOptions): ResolveManagerSteps {
  const timeoutMs = options.dnsSdTimeoutMs ?? 2000;
  return {
    flag: options.flag,
    config: options.config,
    servicesFile: () => readServicesEntries(servicesFilePath(options.home)),
    ...(options.multicast ? { multicast: options.multicast } : {}),
    ...(dnsSdEnabled(options.env)
      ? { dnsSd: () => browseDnsSd({ kind: 'manager', timeoutMs, untilFirst: true }) }
      : {}),
    ...(options.onStep ? { onStep: options.onStep } : {}),
  };
}

export function findManager(options: FindManagerOptions): Promise<ResolvedManager> {
  return resolveManager(standardSteps(options));
}
