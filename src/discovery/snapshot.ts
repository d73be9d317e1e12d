/**
 * `kiln services snapshot`'s work: probe each host's ports (Kiln's defaults, or the ones given),
 * all at once and each for at most `timeoutMs`, and describe what answered as ServiceEntries.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { DEFAULT_MANAGER_PORT } from '../config/ports.js';
import { DB_DEFAULTS } from '../db/config.js';
import { probeManager, probePostgres } from './probes.js';
import { serviceIdOf, type ServiceEntry } from './types.js';

const DEFAULT_PROBE_PORTS: readonly number[] = Object.freeze([DEFAULT_MANAGER_PORT, DB_DEFAULTS.port]);

/** One line per probe as it ends (`what` is undefined when nothing Kiln knows answered). */
type ProbeProgress = (target: string, what: string | undefined) => void;

export interface SnapshotOptions {
  /** Hosts (names or addresses); none means this host. */
  hosts: string[];
  ports?: readonly number[];
  timeoutMs?: number;
  onProgress?: ProbeProgress;
}

interface Target {
  /** What to connect to. */
  connect: string;
  /** The name to record. */
  host: string;
  /** The addresses to record (reachable from elsewhere first). */
  addresses: string[];
}

export async function snapshotServices(options: SnapshotOptions): Promise<ServiceEntry[]> {
  const ports = options.ports && options.ports.length > 0 ? options.ports : DEFAULT_PROBE_PORTS;
  const timeoutMs = options.timeoutMs ?? 1000;
  const targets = options.hosts.length > 0 ? await Promise.all(options.hosts.map(remoteTarget)) : [localTarget()];
  const perHost = await Promise.all(
    targets.map(async (target) => {
      const found = await Promise.all(ports.map((port) => probePort(target, port, timeoutMs, options.onProgress)));
      return shareHostIdentity(found.filter((entry): entry is ServiceEntry => entry !== undefined));
    }),
  );
  return perHost.flat();
}

async function probePort(
  target: Target,
  port: number,
  timeoutMs: number,
  onProgress: ProbeProgress | undefined,
): Promise<ServiceEntry | undefined> {
  const [manager, database] = await Promise.all([
    probeManager(target.connect, port, timeoutMs),
    probePostgres(target.connect, port, timeoutMs),
  ]);
  const base = { host: target.host, addresses: target.addresses, startedAt: '' };
  let entry: ServiceEntry | undefined;
  if (manager) {
    const uuid = manager.hostUuid ?? '';
    entry = {
      ...base,
      kind: 'manager',
      uuid,
      host: manager.hostName ?? target.host,
      serviceId: serviceIdOf(uuid || target.host, 'manager', port),
      ports: { http: port },
      version: manager.version,
    };
  } else if (database) {
    entry = {
      ...base,
      kind: 'database',
      uuid: '',
      serviceId: serviceIdOf(target.host, 'database', port),
      ports: { postgres: port },
      version: database.serverVersion ?? 'unknown',
      meta: { auth: database.auth, ...(database.kilnRole ? { role: 'kiln' } : {}) },
    };
  }
  const where = target.host === target.connect ? target.connect : `${target.host} (${target.connect})`;
  onProgress?.(`${where}:${port}`, entry && describe(entry));
  return entry;
}

function describe(entry: ServiceEntry): string {
  if (entry.kind === 'manager') return `Kiln manager ${entry.version}${entry.uuid ? ` (host ${entry.uuid})` : ''}`;
  const role = entry.meta?.role === 'kiln' ? ', Kiln cluster' : '';
  return `PostgreSQL ${entry.version === 'unknown' ? '' : `${entry.version} `}(auth ${entry.meta?.auth}${role})`;
}

/** A database cannot say which host it is on; the manager found on the same host can. */
function shareHostIdentity(entries: ServiceEntry[]): ServiceEntry[] {
  const manager = entries.find((entry) => entry.kind === 'manager' && entry.uuid);
  if (!manager) return entries;
  return entries.map((entry) =>
    entry.uuid
      ? entry
      : {
          ...entry,
          uuid: manager.uuid,
          host: manager.host,
          serviceId: entry.serviceId.replace(/^[^/]*/, manager.uuid),
        },
  );
}

async function remoteTarget(host: string): Promise<Target> {
  if (isIP(host)) return { connect: host, host, addresses: [host] };
  const found = await lookup(host, { all: true }).catch(() => []);
  const addresses = found.map((item) => item.address);
  return { connect: addresses[0] ?? host, host, addresses: addresses.length > 0 ? addresses : [host] };
}

/** This host: probed on loopback, recorded under the addresses other hosts reach it at. */
function localTarget(): Target {
  const external = Object.values(networkInterfaces())
    .flat()
    .filter((item) => item && !item.internal && item.family === 'IPv4')
    .map((item) => item?.address ?? '');
  return { connect: '127.0.0.1', host: hostname(), addresses: [...external, '127.0.0.1'] };
}
