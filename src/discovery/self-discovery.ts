/**
 * Self-discovery inside a Kiln program: announces the program's services to the multicast scope
 * at start, every period and when asked, says goodbye at a clean stop, and keeps a registry of
 * everything it hears. A member with services answers every query with its whole registry, so a
 * newcomer learns the network from the first answer; a member without (a pure listener: the CLI,
 * a monitor) only asks and listens.
 *
 * Refused datagrams (see protocol.ts) are counted and otherwise ignored: nothing a packet holds
 * can stop a daemon.
 */
import { hostname } from 'node:os';
import type { RemoteInfo } from 'node:dgram';
import type { Logger } from 'pino';
import type { NetworkConfig } from '../config/network-config.js';
import { systemClock, type Clock } from '../util/clock.js';
import { KILN_VERSION } from '../util/version.js';
import { interfaceAddresses } from './addresses.js';
import { announcePacket, answerPackets, decodePacket, encodePacket, queryPacket, type Sender } from './protocol.js';
import { ServiceRegistry, type DuplicateUuid } from './registry.js';
import { openDiscoverySockets, type DiscoverySockets } from './sockets.js';
import { serviceIdOf, type ServiceEntry, type ServiceKind } from './types.js';

const DEFAULT_ANNOUNCE_PERIOD_MS = 5_000;
/** How often silent entries are looked for (well under any period, so expiry is prompt). */
const EXPIRY_CHECK_MS = 100;

/** A service this program runs, as its caller knows it; the rest of the entry is filled in. */
export interface AnnouncedService {
  kind: ServiceKind;
  ports: Record<string, number>;
  meta?: Record<string, string>;
  /**
   * What tells this service apart from others of its kind on the host, in its serviceId
   * (default: its main port). Workers have no port, so they give their own.
   */
  instance?: string;
}

export interface SelfDiscoveryOptions {
  network: NetworkConfig & { uuid: string };
  /** None: a pure listener. */
  services?: AnnouncedService[];
  logger: Logger;
  clock?: Clock;
  /** Default DEFAULT_ANNOUNCE_PERIOD_MS; tests shorten it. */
  periodMs?: number;
  /** Default: this host's name. */
  hostName?: string;
}

export interface DiscoveryCounters {
  received: number;
  accepted: number;
  sent: number;
  oversized: number;
  malformed: number;
  foreignVersion: number;
  spoofed: number;
  duplicateUuid: number;
  sendErrors: number;
}

export interface SelfDiscovery {
  registry: ServiceRegistry;
  counters: DiscoveryCounters;
  /** This member's own entries, as announced. */
  entries: ServiceEntry[];
  /** Asks every member for its registry (answers arrive in `registry`). */
  query(kind?: ServiceKind): Promise<void>;
  /** Sends the goodbye (when there are services) and closes the sockets. */
  stop(): Promise<void>;
}

export async function startSelfDiscovery(options: SelfDiscoveryOptions): Promise<SelfDiscovery> {
  const { network, logger } = options;
  const clock = options.clock ?? systemClock;
  const periodMs = options.periodMs ?? DEFAULT_ANNOUNCE_PERIOD_MS;
  const addresses = interfaceAddresses(network.selfDiscovery.interface, network.file);
  const sender: Sender = { uuid: network.uuid, host: options.hostName ?? hostname(), addresses };
  const entries = (options.services ?? []).map((service) => toEntry(service, sender, clock));
  const registry = new ServiceRegistry(clock, sender);
  const counters = newCounters();
  const log = logger.child({ component: 'self-discovery' });
  registry.on('duplicate', (duplicate) => reportDuplicate(log, counters, duplicate));

  let sockets: DiscoverySockets | undefined;
  const send = (data: Buffer, to?: { address: string; port: number }): Promise<void> => {
    if (!sockets) return Promise.resolve();
    counters.sent++;
    return sockets.send(data, to).catch((error: unknown) => {
      counters.sendErrors++;
      log.debug({ err: error }, 'self-discovery send failed');
    });
  };
  const announce = (type: 'announce' | 'goodbye'): Promise<void> => {
    if (!entries.length) return Promise.resolve();
    const packet = announcePacket(type, sender, entries, periodMs);
    // Our own entries are in our registry whether or not the loopback brings them back.
    if (type === 'announce') registry.applyAnnouncement(packet, addresses[0] ?? '127.0.0.1');
    return send(encodePacket(packet));
  };
  const onDatagram = (data: Buffer, from: RemoteInfo): void => {
    counters.received++;
    const decoded = decodePacket(data, from.address);
    if (!decoded.ok) {
      counters[decoded.reason]++;
      log.debug({ from: from.address, reason: decoded.reason, bytes: data.length }, 'discovery packet refused');
      return;
    }
    counters.accepted++;
    const { packet } = decoded;
    if (packet.type === 'announce' || packet.type === 'goodbye') registry.applyAnnouncement(packet, from.address);
    else if (packet.type === 'answer') registry.applyRelayed(packet.entries);
    else if (entries.length) {
      void announce('announce'); // refreshes our own entries before they are relayed
      for (const answer of answerPackets(sender, registry.relayable()))
        void send(answer, { address: from.address, port: from.port });
    }
  };
  sockets = await openDiscoverySockets({
    settings: network.selfDiscovery,
    dynamicPorts: network.dynamicPorts,
    joinOn: addresses,
    // A host alone sends by loopback, whose packets carry no source address unless told to.
    sendFrom: network.selfDiscovery.interface || isLoopbackOnly(addresses) ? addresses[0] : undefined,
    onDatagram,
    onError: (error) => log.warn({ err: error }, 'self-discovery socket error'),
    file: network.file,
  });
  const query = (kind?: ServiceKind): Promise<void> => send(encodePacket(queryPacket(sender, kind)));
  await announce('announce');
  await query();
  const announcer = setInterval(() => void announce('announce'), periodMs);
  const expiry = setInterval(() => registry.expire(), EXPIRY_CHECK_MS);
  announcer.unref();
  expiry.unref();
  log.debug({ ...network.selfDiscovery, addresses, services: entries.length }, 'self-discovery started');

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      clearInterval(announcer);
      clearInterval(expiry);
      await announce('goodbye');
      for (const entry of entries) registry.remove(entry, 'goodbye');
      await sockets?.close();
      sockets = undefined;
    })());
  return { registry, counters, entries, query, stop };
}

function toEntry(service: AnnouncedService, sender: Sender, clock: Clock): ServiceEntry {
  const instance = service.instance ?? String(Object.values(service.ports)[0] ?? 0);
  return {
    kind: service.kind,
    uuid: sender.uuid,
    host: sender.host,
    serviceId: serviceIdOf(sender.uuid, service.kind, instance),
    addresses: sender.addresses,
    ports: service.ports,
    version: KILN_VERSION,
    startedAt: clock().toISOString(),
    ...(service.meta ? { meta: service.meta } : {}),
  };
}

function isLoopbackOnly(addresses: string[]): boolean {
  return addresses.length === 1 && addresses[0] === '127.0.0.1';
}

function newCounters(): DiscoveryCounters {
  return {
    received: 0,
    accepted: 0,
    sent: 0,
    oversized: 0,
    malformed: 0,
    foreignVersion: 0,
    spoofed: 0,
    duplicateUuid: 0,
    sendErrors: 0,
  };
}

function reportDuplicate(log: Logger, counters: DiscoveryCounters, duplicate: DuplicateUuid): void {
  counters.duplicateUuid++;
  const hosts = duplicate.hosts.map((claimant) => `${claimant.host} (${claimant.address})`).join(' and ');
  log.warn(
    { uuid: duplicate.uuid, hosts: duplicate.hosts },
    `DUPLICATE HOST UUID ${duplicate.uuid}: announced by ${hosts}; run \`kiln identity --regenerate\` on the cloned host`,
  );
}
