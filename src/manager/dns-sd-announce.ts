/**
 * The manager's DNS-SD registration: `_kiln-manager._tcp` for its API, so standard tools and
 * other hosts see it. Withdrawn with a goodbye when the manager stops. (The embedded database's
 * `_kiln-db._tcp` is registered by its announcer, src/db/announcer.ts, like any igniter cluster.)
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { publishService, type PublishedService } from '../discovery/dns-sd.js';
import { serviceIdOf, type ServiceEntry } from '../discovery/types.js';

export interface DnsSdAnnouncement {
  hostUuid: string;
  version: string;
  httpPort: number;
  log: Logger;
}

/** Publishes; the answer withdraws everything published. A failure is logged, never fatal. */
export async function announceOnDnsSd(announcement: DnsSdAnnouncement): Promise<() => Promise<void>> {
  const { hostUuid, version, httpPort, log } = announcement;
  const host = hostname();
  const startedAt = new Date().toISOString();
  const base = { uuid: hostUuid, host, addresses: [], version, startedAt };
  const entries: ServiceEntry[] = [
    { ...base, kind: 'manager', serviceId: serviceIdOf(hostUuid, 'manager', httpPort), ports: { http: httpPort } },
  ];
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
