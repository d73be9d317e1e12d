/**
 * The manager's part in self-discovery: it announces itself (`manager`, its HTTP port). The
 * embedded database is announced by its own announcer (src/db/announcer.ts), which the igniter
 * starts with the server whoever starts it (`kiln db start` or the manager).
 */
import type { Logger } from 'pino';
import { ensureHostIdentity } from '../config/host-identity.js';
import { startSelfDiscovery, type AnnouncedService } from '../discovery/self-discovery.js';
import type { ManagerConfig } from './config.js';

/** Starts announcing when `discovery.enabled`; the answer stops it (with the goodbye). */
export async function startManagerDiscovery(options: {
  home: string;
  config: ManagerConfig;
  url: string;
  log: Logger;
}): Promise<(() => Promise<void>) | undefined> {
  const { home, config, log } = options;
  if (!config.discovery.enabled) return undefined;
  const network = await ensureHostIdentity(home);
  const services: AnnouncedService[] = [{ kind: 'manager', ports: { http: Number(new URL(options.url).port) } }];
  const member = await startSelfDiscovery({ network, services, logger: log });
  log.info(
    { uuid: network.uuid, scope: network.selfDiscovery.scope, port: network.selfDiscovery.port },
    'announcing by multicast self-discovery',
  );
  return () => member.stop();
}
