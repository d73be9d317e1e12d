/**
 * What every discovery source (multicast self-discovery, DNS-SD, services.cfg, configuration)
 * says about a Kiln service, in one shape, so `kiln services map` can merge them and a worker can
 * resolve its manager from whichever answers first.
 */

/** The kinds of Kiln service that announce themselves. */
export const SERVICE_KINDS = ['manager', 'worker', 'database'] as const;
export type ServiceKind = (typeof SERVICE_KINDS)[number];

/** Where an entry came from, most explicit first (the order a worker resolves its manager in). */
const ENTRY_SOURCES = ['flag', 'config', 'services.cfg', 'multicast', 'dns-sd'] as const;
export type EntrySource = (typeof ENTRY_SOURCES)[number];

/**
 * A service's id (ServiceEntry.serviceId): the owner is the host's UUID (its name where the UUID is
 * unknown), the instance its main port (a worker's `<name>:<home tag>`). Every source of entries
 * (announcements, DNS-SD, the services file, the snapshot scanner) builds it here, so the same
 * service found two ways has one id.
 */
export const serviceIdOf = (owner: string, kind: string, instance: string | number): string =>
  `${owner}/${kind}/${instance}`;

export interface ServiceEntry {
  kind: ServiceKind;
  /** The announcing host's identity (network.cfg `[Local] UUID`). */
  uuid: string;
  /** The announcing host's name. */
  host: string;
  /**
   * Unique per running service: `<uuid>/<kind>/<main port>` (several services may share a host);
   * a worker, which has no port, uses `<uuid>/worker/<name>:<home tag>`.
   */
  serviceId: string;
  /** Addresses the service may be reached at (IPv4/IPv6 literals). */
  addresses: string[];
  /** Named ports: `{ http: 7780 }` for a manager, `{ postgres: 7533 }` for a database. */
  ports: Record<string, number>;
  /** Kiln's version on that host. */
  version: string;
  /** ISO time the service started. */
  startedAt: string;
  /** Small extra facts: a database's auth mode (`trust` or `cert`), ... */
  meta?: Record<string, string>;
}

/** An entry as a reader knows it: where it came from and when it was last heard of. */
export interface KnownEntry extends ServiceEntry {
  source: EntrySource;
  /** ms since the epoch, when the source last confirmed it. */
  seenAt: number;
}
