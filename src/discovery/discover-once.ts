/**
 * A one-shot look at the network: join as a pure listener, ask every member for its registry,
 * collect answers and announcements for `timeoutMs` (or until the first entry of `kind` when
 * `first` is set: a worker looking for its manager), leave.
 */
import pino, { type Logger } from 'pino';
import type { NetworkConfig } from '../config/network-config.js';
import { startSelfDiscovery, type DiscoveryCounters } from './self-discovery.js';
import type { RegistryEntry } from './registry.js';
import type { ServiceKind } from './types.js';

export interface DiscoverOnceOptions {
  network: NetworkConfig & { uuid: string };
  kind?: ServiceKind | undefined;
  timeoutMs: number;
  /** Return as soon as an entry (of `kind`) is known. */
  first?: boolean;
  logger?: Logger;
}

export interface DiscoveryResult {
  entries: RegistryEntry[];
  counters: DiscoveryCounters;
  /** UUIDs two hosts announce. */
  duplicateUuids: string[];
}

export async function discoverOnce(options: DiscoverOnceOptions): Promise<DiscoveryResult> {
  const { kind } = options;
  const member = await startSelfDiscovery({
    network: options.network,
    logger: options.logger ?? pino({ level: 'silent' }),
  });
  const matches = (): RegistryEntry[] => member.registry.list().filter((entry) => !kind || entry.kind === kind);
  try {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, options.timeoutMs);
      function done(): void {
        clearTimeout(timer);
        member.registry.off('change', onChange);
        resolve();
      }
      function onChange(): void {
        if (options.first && matches().length) done();
      }
      member.registry.on('change', onChange);
      onChange();
    });
    return { entries: matches(), counters: { ...member.counters }, duplicateUuids: member.registry.duplicateUuids() };
  } finally {
    await member.stop();
  }
}
