/**
 * DNS-SD (mDNS) for Kiln's manager and database, through bonjour-service: `publishService`
 * registers `_kiln-manager._tcp` / `_kiln-db._tcp` with a TXT record that `avahi-browse`,
 * `dns-sd` and python-zeroconf show; `browseDnsSd` lists what answers on the link.
 *
 * Coexisting with avahi-daemon: multicast-dns binds UDP 5353 with SO_REUSEADDR, as avahi does,
 * and the SRV target is a host name of Kiln's own (`<host>-kiln.local`), so Kiln never answers
 * for the `<host>.local` address records avahi owns (answering those with other addresses would
 * be a conflict avahi resolves by renaming the host).
 */
import { hostname } from 'node:os';
import { Bonjour, type Service, type ServiceConfig } from 'bonjour-service';
import { DNS_SD_TYPES, dnsSdType, fromHeard, instanceName, mainPort, toTxt } from './dns-sd-records.js';
import type { KnownEntry, ServiceEntry, ServiceKind } from './types.js';

/** Where problems go (a pino logger fits). */
export interface DnsSdLog {
  warn: (details: object, message: string) => void;
}

export interface PublishOptions {
  /** The IPv4 address of the interface to use (multicast-dns `interface`); default: all. */
  interface?: string;
  log?: DnsSdLog;
}

export interface PublishedService {
  /** The DNS-SD instance name, as browsers show it. */
  name: string;
  /** Sends the goodbye (TTL 0) and closes the socket. Safe to call twice. */
  stop: () => Promise<void>;
}

/** The SRV target: this host's name under a label of Kiln's own (see the file comment). */
export function kilnHostName(host: string = hostname()): string {
  const label = host.split('.')[0]?.replace(/[^A-Za-z0-9-]/g, '-') || 'kiln';
  return `${label.slice(0, 58)}-kiln.local`;
}

/** Registers one service; resolves once the socket is bound (the announcement follows its probe). */
export async function publishService(entry: ServiceEntry, options: PublishOptions = {}): Promise<PublishedService> {
  const bonjour = makeBonjour(options, 'DNS-SD responder error');
  const name = instanceName(entry);
  const service: Service = bonjour.publish({
    name,
    type: dnsSdType(entry.kind),
    protocol: 'tcp',
    port: mainPort(entry),
    host: kilnHostName(entry.host),
    txt: toTxt(entry),
  });
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= new Promise<void>((resolvePromise) => {
      // A goodbye that cannot be sent (interface gone) must not keep a daemon from stopping.
      const timer = setTimeout(finish, 1000);
      function finish(): void {
        clearTimeout(timer);
        bonjour.destroy(() => resolvePromise());
      }
      service.stop?.(finish);
    }));
  return { name, stop };
}

export interface BrowseOptions {
  /** Only this kind (default: every kind Kiln publishes). */
  kind?: ServiceKind;
  /** How long to listen. */
  timeoutMs: number;
  /** Return as soon as one service is heard (a resolver wants the first manager, not all). */
  untilFirst?: boolean;
  interface?: string;
  log?: DnsSdLog;
}

/** Kiln services heard over DNS-SD within `timeoutMs`; foreign TXT formats are skipped. */
export function browseDnsSd(options: BrowseOptions): Promise<KnownEntry[]> {
  const kinds = (Object.keys(DNS_SD_TYPES) as ServiceKind[]).filter(
    (kind) => options.kind === undefined || kind === options.kind,
  );
  if (kinds.length === 0) return Promise.resolve([]);
  const bonjour = makeBonjour(options, 'DNS-SD browser error');
  const found = new Map<string, KnownEntry>();
  return new Promise<KnownEntry[]>((resolvePromise) => {
    const finish = (): void => {
      clearTimeout(timer);
      for (const browser of browsers) browser.stop();
      bonjour.destroy(() => resolvePromise([...found.values()]));
    };
    const timer = setTimeout(finish, options.timeoutMs);
    const browsers = kinds.map((kind) =>
      bonjour.find({ type: dnsSdType(kind), protocol: 'tcp' }, (service) => {
        const entry = fromHeard({
          kind,
          port: service.port,
          target: service.host,
          addresses: heardAddresses(service),
          txt: (service.txt ?? {}) as Record<string, unknown>,
        });
        if (!entry) return;
        found.set(entry.serviceId, { ...entry, source: 'dns-sd', seenAt: Date.now() });
        if (options.untilFirst) finish();
      }),
    );
  });
}

/**
 * One mDNS socket. bonjour-service passes its options through to multicast-dns, whose
 * `interface` its types do not list. Its default error handler throws; a daemon logs instead.
 */
function makeBonjour(options: { interface?: string; log?: DnsSdLog }, message: string): Bonjour {
  const socketOptions = (options.interface ? { interface: options.interface } : {}) as Partial<ServiceConfig>;
  return new Bonjour(socketOptions, (error: Error) => options.log?.warn({ reason: error.message }, message));
}

/** The packet's sender first (it certainly routes back), then the A/AAAA records. */
function heardAddresses(service: Service): string[] {
  const fromRecords = (service.addresses ?? []).filter((address) => !address.startsWith('fe80:'));
  return [...new Set([...(service.referer ? [service.referer.address] : []), ...fromRecords])];
}
