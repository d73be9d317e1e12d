/**
 * What a self-discovery member knows: every service heard of, first-hand (its announcements) or
 * relayed (another member's answer to a query), until it says goodbye or falls silent for
 * EXPIRY_PERIODS of its announcement period. Emits 'change' for each appearance, change and
 * disappearance, and 'duplicate' when two hosts announce one UUID.
 */
import { EventEmitter } from 'node:events';
import type { Clock } from '../util/clock.js';
import type { KnownEntry, ServiceEntry } from './types.js';
import type { AnnouncePacket, RelayedEntry, Sender } from './protocol.js';

/** Missed announcements before an entry is forgotten. */
const EXPIRY_PERIODS = 3;

export interface RegistryEntry extends KnownEntry {
  /** How often the service announces (its own setting, carried in its packets). */
  periodMs: number;
  /** Heard from the service itself, or relayed by another member. */
  via: 'announce' | 'relay';
  /** Another host announces this entry's UUID too: one of them is a clone (see `kiln identity`). */
  duplicateUuid?: true;
}

export type RegistryChange =
  | { type: 'appeared' | 'changed'; entry: RegistryEntry }
  | { type: 'disappeared'; entry: RegistryEntry; reason: 'goodbye' | 'expired' };

export interface DuplicateUuid {
  uuid: string;
  /** The two claimants: host names and the address each was heard from. */
  hosts: Array<{ host: string; address: string }>;
}

interface Claimant {
  host: string;
  addresses: string[];
  address: string;
  seenAt: number;
}

export class ServiceRegistry extends EventEmitter<{ change: [RegistryChange]; duplicate: [DuplicateUuid] }> {
  /** By entryKey: a cloned host announces the same serviceId as its original, and both are kept. */
  private readonly entries = new Map<string, RegistryEntry>();
  /** Who was heard announcing each UUID first-hand lately, to notice a second host with it. */
  private readonly claimants = new Map<string, Claimant[]>();
  private readonly duplicates = new Set<string>();

  constructor(
    private readonly clock: Clock,
    /** This host: a packet from elsewhere with its UUID is a duplicate too. */
    self?: { uuid: string; host: string; addresses: string[] },
  ) {
    super();
    if (self) this.claimants.set(self.uuid, [{ ...self, address: self.addresses[0] ?? '', seenAt: Infinity }]);
  }

  list(): RegistryEntry[] {
    return [...this.entries.values()].sort((a, b) => a.kind.localeCompare(b.kind) || a.host.localeCompare(b.host));
  }

  /** UUIDs two hosts announce. */
  duplicateUuids(): string[] {
    return [...this.duplicates];
  }

  /** An announcement (or goodbye) that came from `source`, checked by decodePacket. */
  applyAnnouncement(packet: AnnouncePacket, source: string): void {
    this.noteClaimant(packet.sender, source);
    for (const entry of packet.entries) {
      if (packet.type === 'goodbye') this.remove(entry, 'goodbye');
      else this.upsert(entry, { periodMs: packet.periodMs, via: 'announce', seenAt: this.now() });
    }
  }

  /** Entries another member relayed: taken when newer than what is known. */
  applyRelayed(relayed: RelayedEntry[]): void {
    const now = this.now();
    for (const { entry, ageMs, periodMs } of relayed) {
      const seenAt = now - ageMs;
      const known = this.entries.get(entryKey(entry));
      if ((known && known.seenAt >= seenAt) || this.isExpired(seenAt, periodMs, now)) continue;
      this.upsert(entry, { periodMs, via: known?.via === 'announce' ? 'announce' : 'relay', seenAt });
    }
  }

  /** The whole registry as an answer relays it. */
  relayable(): RelayedEntry[] {
    const now = this.now();
    return this.list().map((known) => ({
      entry: toServiceEntry(known),
      ageMs: Math.max(0, Math.round(now - known.seenAt)),
      periodMs: known.periodMs,
    }));
  }

  /** Forgets entries silent for EXPIRY_PERIODS of their period. */
  expire(): void {
    const now = this.now();
    for (const entry of this.entries.values())
      if (this.isExpired(entry.seenAt, entry.periodMs, now)) this.remove(entry, 'expired');
    for (const [uuid, claimants] of this.claimants) {
      const current = claimants.filter((claimant) => now - claimant.seenAt < 60_000);
      if (current.length) this.claimants.set(uuid, current);
      else this.claimants.delete(uuid);
    }
  }

  /** Forgets a service now (the member's own, at its goodbye). */
  remove(service: ServiceEntry, reason: 'goodbye' | 'expired'): void {
    const entry = this.entries.get(entryKey(service));
    if (!entry) return;
    this.entries.delete(entryKey(service));
    this.emit('change', { type: 'disappeared', entry, reason });
  }

  private upsert(entry: ServiceEntry, facts: Pick<RegistryEntry, 'periodMs' | 'via' | 'seenAt'>): void {
    const known = this.entries.get(entryKey(entry));
    const next: RegistryEntry = { ...toServiceEntry(entry), source: 'multicast', ...facts };
    if (this.duplicates.has(entry.uuid)) next.duplicateUuid = true;
    this.entries.set(entryKey(entry), next);
    if (!known) this.emit('change', { type: 'appeared', entry: next });
    else if (sameFacts(known, next)) return;
    else this.emit('change', { type: 'changed', entry: next });
  }

  private noteClaimant(sender: Sender, source: string): void {
    const now = this.now();
    const claimants = this.claimants.get(sender.uuid) ?? [];
    const same = claimants.find((claimant) => sameHost(claimant, sender, source));
    if (same) {
      same.seenAt = Math.max(same.seenAt, now);
      same.address = source;
    } else claimants.push({ host: sender.host, addresses: sender.addresses, address: source, seenAt: now });
    this.claimants.set(sender.uuid, claimants);
    if (claimants.length < 2) return;
    const first = this.duplicates.has(sender.uuid) === false;
    this.duplicates.add(sender.uuid);
    for (const entry of this.entries.values()) if (entry.uuid === sender.uuid) entry.duplicateUuid = true;
    if (first || !same)
      this.emit('duplicate', {
        uuid: sender.uuid,
        hosts: claimants.map((claimant) => ({ host: claimant.host, address: claimant.address })),
      });
  }

  private isExpired(seenAt: number, periodMs: number, now: number): boolean {
    return now - seenAt > EXPIRY_PERIODS * periodMs;
  }

  private now(): number {
    return this.clock().getTime();
  }
}

/** One host is one host name with overlapping addresses; anything else with its UUID is a clone. */
function sameHost(claimant: Claimant, sender: Sender, source: string): boolean {
  if (claimant.host !== sender.host) return false;
  return (
    claimant.addresses.includes(source) || sender.addresses.some((address) => claimant.addresses.includes(address))
  );
}

function entryKey(entry: ServiceEntry): string {
  return `${entry.serviceId} ${entry.host}`;
}

function toServiceEntry(entry: ServiceEntry): ServiceEntry {
  const { kind, uuid, host, serviceId, addresses, ports, version, startedAt, meta } = entry;
  return { kind, uuid, host, serviceId, addresses, ports, version, startedAt, ...(meta ? { meta } : {}) };
}

function sameFacts(a: RegistryEntry, b: RegistryEntry): boolean {
  return JSON.stringify(toServiceEntry(a)) === JSON.stringify(toServiceEntry(b)) && a.duplicateUuid === b.duplicateUuid;
}
