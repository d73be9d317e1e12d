/**
 * The body of `kiln db announce` (see announcer.ts): announces the cluster's database while its
 * postmaster runs, and withdraws it (goodbyes) when the postmaster is gone or on SIGTERM/SIGINT.
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { ensureHostIdentity } from '../config/host-identity.js';
import { publishService, type PublishedService } from '../discovery/dns-sd.js';
import { startSelfDiscovery, type SelfDiscovery } from '../discovery/self-discovery.js';
import { serviceIdOf, type ServiceEntry } from '../discovery/types.js';
import { KILN_VERSION } from '../util/version.js';
import { announcerChannels } from './announcer.js';
import { openCluster } from './cluster.js';
import { readRunningState } from './server-process.js';

/** How often the postmaster is looked for. */
const WATCH_MS = 200;

/** Runs until the server is gone or a signal comes; resolves once the goodbyes are sent. */
export async function runAnnouncer(options: { data: string; home: string; log: Logger }): Promise<void> {
  const { home, log } = options;
  const { paths, meta } = openCluster(options.data);
  const postmaster = readRunningState(paths).pid;
  if (postmaster === undefined) {
    log.info({ data: paths.requested }, 'the database is not running; nothing to announce');
    return;
  }
  const channels = announcerChannels(home);
  if (!channels.multicast && !channels.dnsSd) {
    log.info('discovery is off (KILN_SELF_DISCOVERY, KILN_DNS_SD, db.yaml discovery); nothing to announce');
    return;
  }
  const network = await ensureHostIdentity(home);
  const service = { kind: 'database' as const, ports: { postgres: meta.port }, meta: { auth: meta.auth } };
  const withdraw: Array<() => Promise<void>> = [];
  if (channels.multicast) {
    const member: SelfDiscovery = await startSelfDiscovery({ network, services: [service], logger: log });
    withdraw.push(() => member.stop());
    log.info({ uuid: network.uuid, port: meta.port }, 'announcing the database by multicast self-discovery');
  }
  if (channels.dnsSd) {
    const entry: ServiceEntry = {
      ...service,
      uuid: network.uuid,
      host: hostname(),
      addresses: [],
      version: KILN_VERSION,
      startedAt: new Date().toISOString(),
      serviceId: serviceIdOf(network.uuid, 'database', meta.port),
    };
    try {
      const published: PublishedService = await publishService(entry, { log });
      withdraw.push(() => published.stop());
      log.info({ kind: 'database', port: entry.ports }, 'registered over DNS-SD');
    } catch (error) {
      log.warn({ kind: 'database', reason: (error as Error).message }, 'cannot register over DNS-SD');
    }
  }
  const reason = await untilGone(() => readRunningState(paths).pid === postmaster);
  log.info({ reason }, 'withdrawing the database announcements');
  await Promise.all(withdraw.map((fn) => fn().catch(() => undefined)));
  log.info('announcer stopped');
}

/** Resolves with what ended the wait: the server gone, or a signal. */
function untilGone(alive: () => boolean): Promise<string> {
  return new Promise((resolvePromise) => {
    const finish = (reason: string): void => {
      clearInterval(timer);
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      resolvePromise(reason);
    };
    const onTerm = (): void => finish('SIGTERM');
    const onInt = (): void => finish('SIGINT');
    process.once('SIGTERM', onTerm);
    process.once('SIGINT', onInt);
    const timer = setInterval(() => {
      if (!alive()) finish('server stopped');
    }, WATCH_MS);
  });
}
