/**
 * How a Kiln service looks in DNS-SD, both ways: the service type and TXT record it publishes
 * under, and the ServiceEntry a browser builds back from what it hears. Pure, so the format is
 * tested without a network.
 */
import { serviceIdOf, type ServiceEntry, type ServiceKind } from './types.js';

/** The DNS-SD service type of each kind that registers one (workers do not). */
export const DNS_SD_TYPES: Partial<Record<ServiceKind, string>> = Object.freeze({
  manager: 'kiln-manager',
  database: 'kiln-db',
});

/** The port name a kind's one DNS-SD port stands for (SRV records carry a single port). */
const MAIN_PORT_NAME: Record<ServiceKind, string> = Object.freeze({
  manager: 'http',
  database: 'postgres',
  worker: 'http',
});

/** Bumped when the TXT keys change meaning; a browser ignores TXT versions it does not know. */
const TXT_VERSION = '1';

/** DNS labels are at most 63 bytes; instance names must be unique on the link. */
const MAX_LABEL_BYTES = 63;

export function dnsSdType(kind: ServiceKind): string {
  const type = DNS_SD_TYPES[kind];
  if (!type) throw new Error(`a ${kind} is not published over DNS-SD`);
  return type;
}

export function mainPort(entry: Pick<ServiceEntry, 'kind' | 'ports'>): number {
  const port = entry.ports[MAIN_PORT_NAME[entry.kind]] ?? Object.values(entry.ports)[0];
  if (port === undefined) throw new Error(`a ${entry.kind} entry needs a port`);
  return port;
}

/**
 * The instance name people see in `avahi-browse`: kind, host and enough of the UUID and port to
 * keep two services of one kind on one host (or two hosts of one name) apart.
 */
export function instanceName(entry: Pick<ServiceEntry, 'kind' | 'host' | 'uuid' | 'ports'>): string {
  const suffix = ` (${entry.uuid.slice(0, 8)}:${mainPort(entry)})`;
  let name = `Kiln ${entry.kind} on ${entry.host}`;
  while (Buffer.byteLength(name + suffix) > MAX_LABEL_BYTES) name = name.slice(0, -1);
  return name + suffix;
}

/** TXT keys: short, as DNS-SD asks; every value a string. */
export function toTxt(entry: ServiceEntry): Record<string, string> {
  const txt: Record<string, string> = {
    txtvers: TXT_VERSION,
    uuid: entry.uuid,
    version: entry.version,
    host: entry.host,
    started: entry.startedAt,
  };
  // Other named ports (a manager's, say, later ones) ride along as port.<name>.
  for (const [name, port] of Object.entries(entry.ports))
    if (name !== MAIN_PORT_NAME[entry.kind]) txt[`port.${name}`] = String(port);
  for (const [key, value] of Object.entries(entry.meta ?? {})) txt[key] = value;
  return txt;
}

const CORE_TXT_KEYS = new Set(['txtvers', 'uuid', 'version', 'host', 'started']);

/** What a browser heard, reduced to the fields Kiln reads. */
export interface HeardService {
  kind: ServiceKind;
  port: number;
  /** SRV target, e.g. `render1.local`. */
  target: string;
  addresses: string[];
  txt: Record<string, unknown>;
}

/** A heard service as a ServiceEntry; undefined when its TXT is not Kiln's (foreign or newer format). */
export function fromHeard(heard: HeardService): ServiceEntry | undefined {
  const txt = Object.fromEntries(Object.entries(heard.txt).map(([key, value]) => [key, textOf(value)]));
  if (txt.txtvers !== TXT_VERSION || !txt.uuid) return undefined;
  const ports: Record<string, number> = { [MAIN_PORT_NAME[heard.kind]]: heard.port };
  const meta: Record<string, string> = {};
  for (const [key, value] of Object.entries(txt)) {
    if (key.startsWith('port.')) {
      const port = Number(value);
      if (Number.isInteger(port) && port > 0 && port < 65536) ports[key.slice(5)] = port;
    } else if (!CORE_TXT_KEYS.has(key)) meta[key] = value;
  }
  const host = txt.host || heard.target.replace(/\.local\.?$/, '');
  return {
    kind: heard.kind,
    uuid: txt.uuid,
    host,
    serviceId: serviceIdOf(txt.uuid, heard.kind, heard.port),
    addresses: [...new Set(heard.addresses)],
    ports,
    version: txt.version ?? 'unknown',
    startedAt: txt.started ?? '',
    ...(Object.keys(meta).length > 0 ? { meta } : {}),
  };
}

function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return value === true ? '' : String(value);
}
