/**
 * Everything this host can learn about Kiln services in one look, for `kiln services map`:
 * multicast self-discovery and DNS-SD listened to side by side for the same wait, plus the
 * services.cfg under the home, merged into one row per service.
 *
 * `KILN_SELF_DISCOVERY=off` and `KILN_DNS_SD=off` leave those sources out (the tests' environment:
 * nothing is sent on the host's own interfaces unless a test turns them on inside a namespace).
 */
import type { NetworkConfig } from '../config/network-config.js';
import { discoverOnce } from './discover-once.js';
import { browseDnsSd } from './dns-sd.js';
import { dnsSdEnabled, selfDiscoveryEnabled } from './find-manager.js';
import { mergeEntries, type MergedEntry } from './merge-entries.js';
import { readServicesEntries, servicesFilePath } from './services-store.js';
import type { EntrySource } from './types.js';

export interface CollectedServices {
  entries: MergedEntry[];
  /** UUIDs two hosts announce (heard by multicast). */
  duplicateUuids: string[];
  /** The sources looked at, in the order they were merged. */
  sources: EntrySource[];
  /** A source that failed, with why (the others still count). */
  problems: string[];
}

export async function collectServices(options: {
  home: string;
  network: NetworkConfig & { uuid: string };
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
}): Promise<CollectedServices> {
  const env = options.env ?? process.env;
  const problems: string[] = [];
  const sources: EntrySource[] = [];
  const failed = (source: EntrySource) => (error: unknown) => {
    problems.push(`${source}: ${(error as Error).message}`);
    return undefined;
  };
  const multicast = selfDiscoveryEnabled(env)
    ? discoverOnce({ network: options.network, timeoutMs: options.timeoutMs }).catch(failed('multicast'))
    : undefined;
  const dnsSd = dnsSdEnabled(env) ? browseDnsSd({ timeoutMs: options.timeoutMs }).catch(failed('dns-sd')) : undefined;
  const listed = readServicesEntries(servicesFilePath(options.home)).catch(failed('services.cfg'));
  if (multicast) sources.push('multicast');
  if (dnsSd) sources.push('dns-sd');
  sources.push('services.cfg');
  const [heard, browsed, file] = await Promise.all([multicast, dnsSd, listed]);
  return {
    entries: mergeEntries([heard?.entries ?? [], browsed ?? [], file ?? []]),
    duplicateUuids: heard?.duplicateUuids ?? [],
    sources,
    problems,
  };
}
