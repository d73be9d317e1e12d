/**
 * One row per service from every source that knows it: multicast self-discovery, DNS-SD and
 * services.cfg each describe a manager in their own words, and `kiln services map` shows it once
 * with all of its sources. Pure, so the matching is tested without a network.
 */
import { mainPort } from './dns-sd-records.js';
import type { EntrySource, KnownEntry, ServiceEntry } from './types.js';

/** Live sources first: what a row's `source` names when several know it. */
const SOURCE_ORDER: EntrySource[] = ['multicast', 'dns-sd', 'services.cfg', 'config', 'flag'];

export interface MergedEntry extends ServiceEntry {
  /** The liveliest source that knows the service (multicast, then DNS-SD, then services.cfg). */
  source: EntrySource;
  /** Every source that knows it, in that order. */
  sources: EntrySource[];
  /** When the freshest source last confirmed it (ms since the epoch). */
  seenAt: number;
  /** When each source last confirmed it. */
  seenAtBySource: Partial<Record<EntrySource, number>>;
  /** Another host announces this entry's UUID too (multicast only). */
  duplicateUuid?: true;
}

/** Merges the sources' lists; entries of one source are never merged with each other. */
export function mergeEntries(lists: Array<Array<KnownEntry & { duplicateUuid?: true }>>): MergedEntry[] {
  const rows: MergedEntry[] = [];
  const ordered = lists.flat().sort((a, b) => rank(a.source) - rank(b.source));
  for (const entry of ordered) {
    const row = rows.find((candidate) => !candidate.sources.includes(entry.source) && sameService(candidate, entry));
    if (row) absorb(row, entry);
    else rows.push(newRow(entry));
  }
  return rows.sort((a, b) => a.kind.localeCompare(b.kind) || a.host.localeCompare(b.host));
}

function rank(source: EntrySource): number {
  return SOURCE_ORDER.indexOf(source);
}

function newRow(entry: KnownEntry & { duplicateUuid?: true }): MergedEntry {
  const { kind, uuid, host, serviceId, addresses, ports, version, startedAt, meta, source, seenAt } = entry;
  return {
    kind,
    uuid,
    host,
    serviceId,
    addresses: [...addresses],
    ports: { ...ports },
    version,
    startedAt,
    ...(meta ? { meta: { ...meta } } : {}),
    source,
    sources: [source],
    seenAt,
    seenAtBySource: { [source]: seenAt },
    ...(entry.duplicateUuid ? { duplicateUuid: true as const } : {}),
  };
}

/** Adds a less lively source's view: its addresses, ports and facts fill what the row lacks. */
function absorb(row: MergedEntry, entry: KnownEntry): void {
  row.sources.push(entry.source);
  row.seenAtBySource[entry.source] = entry.seenAt;
  row.seenAt = Math.max(row.seenAt, entry.seenAt);
  row.addresses = [...new Set([...row.addresses, ...entry.addresses])];
  row.ports = { ...entry.ports, ...row.ports };
  if (!row.uuid) row.uuid = entry.uuid;
  if (entry.meta) row.meta = { ...entry.meta, ...row.meta };
}

/**
 * One service: the same UUID, kind and main port; or, for a hand-written services.cfg entry
 * without a UUID, the same kind and main port at an address the other source also gives.
 */
function sameService(row: MergedEntry, entry: KnownEntry): boolean {
  if (row.kind !== entry.kind) return false;
  if (Object.keys(entry.ports).length === 0 || Object.keys(row.ports).length === 0) return false;
  if (mainPort(entry) !== mainPort(row)) return false;
  if (row.uuid && entry.uuid) return row.uuid === entry.uuid;
  return entry.addresses.some((address) => row.addresses.includes(address));
}
