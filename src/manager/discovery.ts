/**
 * The manager's part in self-discovery: it announces itself (`manager`, its HTTP port) and, when
 * it runs on the igniter's embedded cluster, that database too (`database`, its port and auth
 * mode): PostgreSQL is a separate server process that cannot announce, and `kiln db start`
 * returns at once, so the manager is the long-lived Kiln process beside it.
 */
import type { Logger } from 'pino';
import { ensureHostIdentity } from '../config/host-identity.js';
import { loadConfig } from '../config/load.js';
import { DB_DEFAULTS, DbConfigSchema } from '../db/config.js';
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
  if (!config.database_url) {
    const db = loadConfig('db', DbConfigSchema, DB_DEFAULTS, { home });
    services.push({ kind: 'database', ports: { postgres: db.port }, meta: { auth: db.auth } });
  }
  const member = await startSelfDiscovery({ network, services, logger: log });
  log.info(
    { uuid: network.uuid, scope: network.selfDiscovery.scope, port: network.selfDiscovery.port },
    'announcing by multicast self-discovery',
  );
  return () => member.stop();
}
