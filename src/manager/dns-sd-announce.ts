/**
 * The manager's DNS-SD registrations: `_kiln-manager._tcp` for its API and, when it started the
 * embedded database itself, `_kiln-db._tcp` for that database (with its auth mode), so standard
 * tools and other hosts see both. Withdrawn with a goodbye when the manager stops.
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { publishService, type PublishedService } from '../discovery/dns-sd.js';
import type { ServiceEntry } from '../discovery/types.js';
import type { AuthMode } from '../db/config.js';

export interface DnsSdAnnouncement {
  hostUuid: string;
  version: string;
  httpPort: number;
  /** The embedded database this manager started (not one it merely connects to). */
  database?: { port: number; auth: AuthMode } | undefined;
  log: Logger;
}

/** Publishes; the answer withdraws everything published. A failure is logged, never fatal. */
export async function announceOnDnsSd(announcement: DnsSdAnnouncement): Promise<() => Promise<void>> {
  const { hostUuid, version, httpPort, database, log } = announcement;
  const host = hostname();
  const startedAt = new Date().toISOString();
  const base = { uuid: hostUuid, host, addresses: [], version, startedAt };
  const entries: ServiceEntry[] = [
    { ...base, kind: 'manager', serviceId: `${hostUuid}/manager/${httpPort}`, ports: { http: httpPort } },
  ];
  if (database)
    entries.push({
      ...base,
      kind: 'database',
      serviceId: `${hostUuid}/database/${database.port}`,
      ports: { postgres: database.port },
      meta: { auth: database.auth },
    });
  const published: PublishedService[] = [];
  for (const entry of entries) {
    try {
      published.push(await publishService(entry, { log }));
      log.info({ kind: entry.kind, port: entry.ports }, 'registered over DNS-SD');
    } catch (error) {
      log.warn({ kind: entry.kind, reason: (error as Error).message }, 'cannot register over DNS-SD');
    }
  }
  return async () => {
    await Promise.all(published.map((service) => service.stop()));
  };
}
