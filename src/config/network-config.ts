/**
 * `network.cfg` (INI, under the Kiln home): this host's identity and how it takes part in
 * discovery. Read by every daemon and by the CLI; a bad value stops the program with one line
 * naming the key and the file.
 *
 *   [Local]            UUID        this host's identity (see host-identity.ts)
 *   [Self Discovery]   Port        7555       UDP port of the announcements
 *                      Scope       224.0.0.1  multicast group (239.0.0.1 for multi-subnet sites)
 *                      TTL         1          hops an announcement may cross
 *                      Interface   (none)     interface name to send and listen on
 *   [Dynamic Ports]    LowerBound  49152      the range services take arbitrary ports from
 *                      UpperBound  65535
 *   [IO Priority]      Port        8244       TCP port foreground applications listen on
 *                      Listen      (every address)  the address a foreground listener binds
 *                      Hosts       (none)     storage hosts whose holds also pause this host's
 *                                             background work: `nas1, nas2:8245` (this host always counts)
 */
import { readFileSync } from 'node:fs';
import { isIP, isIPv4 } from 'node:net';
import { join } from 'node:path';
import { UserError, isErrnoException } from '../util/errors.js';
import { IniSyntaxError, iniValue, parseIni, type IniSections } from './ini.js';

const NETWORK_CFG = 'network.cfg';

const DEFAULT_DISCOVERY_PORT = 7555;
const DEFAULT_DISCOVERY_SCOPE = '224.0.0.1';
const DEFAULT_DISCOVERY_TTL = 1;
const DEFAULT_DYNAMIC_PORTS = Object.freeze({ lower: 49152, upper: 65535 });
export const DEFAULT_IO_PRIORITY_PORT = 8244;

export interface SelfDiscoverySettings {
  port: number;
  /** An IPv4 multicast group. */
  scope: string;
  ttl: number;
  /** An interface name (`eth0`); none: the system's route for the scope decides. */
  interface?: string | undefined;
}

export interface PortRange {
  lower: number;
  upper: number;
}

export interface IoPrioritySettings {
  port: number;
  /** The address a foreground listener binds; none: every address. */
  listen?: string | undefined;
  /** Storage hosts watched besides this one, each with its port. */
  hosts: Array<{ host: string; port: number }>;
}

export interface NetworkConfig {
  /** The file the settings came from (it may not exist: then they are the defaults). */
  file: string;
  /** Absent until host-identity.ts writes one. */
  uuid?: string | undefined;
  selfDiscovery: SelfDiscoverySettings;
  dynamicPorts: PortRange;
  ioPriority: IoPrioritySettings;
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function networkConfigPath(home: string): string {
  return join(home, NETWORK_CFG);
}

/** The file's text, or '' when there is none yet. */
export function readNetworkConfigText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    if (isErrnoException(error, 'ENOENT')) return '';
    throw new UserError(`cannot read ${file}: ${(error as Error).message}`, { code: 'invalid_config' });
  }
}

export function loadNetworkConfig(home: string): NetworkConfig {
  const file = networkConfigPath(home);
  return parseNetworkConfig(readNetworkConfigText(file), file);
}

export function parseNetworkConfig(text: string, file: string): NetworkConfig {
  let sections: IniSections;
  try {
    sections = parseIni(text);
  } catch (error) {
    if (error instanceof IniSyntaxError) throw new UserError(`${file}: ${error.message}`, { code: 'invalid_config' });
    throw error;
  }
  const read = new SettingReader(sections, file);
  const config: NetworkConfig = {
    file,
    uuid: read.string('Local', 'UUID', (value) => UUID_PATTERN.test(value), 'a UUID like 0d6f...-...'),
    selfDiscovery: {
      port: read.integer('Self Discovery', 'Port', DEFAULT_DISCOVERY_PORT, 1, 65535),
      scope:
        read.string(
          'Self Discovery',
          'Scope',
          isMulticastV4,
          'an IPv4 multicast address (224.0.0.0 to 239.255.255.255)',
        ) ?? DEFAULT_DISCOVERY_SCOPE,
      ttl: read.integer('Self Discovery', 'TTL', DEFAULT_DISCOVERY_TTL, 1, 255),
      interface: read.string(
        'Self Discovery',
        'Interface',
        (value) => /^[\w.:@-]{1,15}$/.test(value),
        'an interface name',
      ),
    },
    dynamicPorts: {
      lower: read.integer('Dynamic Ports', 'LowerBound', DEFAULT_DYNAMIC_PORTS.lower, 1024, 65535),
      upper: read.integer('Dynamic Ports', 'UpperBound', DEFAULT_DYNAMIC_PORTS.upper, 1024, 65535),
    },
    ioPriority: readIoPriority(read),
  };
  if (config.dynamicPorts.lower > config.dynamicPorts.upper)
    throw new UserError(
      `[Dynamic Ports] LowerBound (${config.dynamicPorts.lower}) is above UpperBound (${config.dynamicPorts.upper}) in ${file}`,
      { field: 'Dynamic Ports.LowerBound', code: 'invalid_config' },
    );
  return config;
}

function readIoPriority(read: SettingReader): IoPrioritySettings {
  const port = read.integer('IO Priority', 'Port', DEFAULT_IO_PRIORITY_PORT, 1, 65535);
  const listen = read.string('IO Priority', 'Listen', (value) => isIP(value) !== 0, 'an IP address');
  const list = read.string('IO Priority', 'Hosts', (value) => parseHostList(value, port) !== undefined, HOSTS_TEXT);
  return { port, listen, hosts: list === undefined ? [] : (parseHostList(list, port) ?? []) };
}

const HOSTS_TEXT = 'a comma-separated list of host names or addresses, each with an optional :port';
const HOST_NAME = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$/;

/** `nas1, 10.0.0.5:8245, [fd00::5]:8244` to hosts and ports; undefined when an entry is not one. */
function parseHostList(text: string, defaultPort: number): Array<{ host: string; port: number }> | undefined {
  const hosts: Array<{ host: string; port: number }> = [];
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const match = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry) ?? /^([^:]+)(?::(\d+))?$/.exec(entry);
    const host = match?.[1] ?? (isIP(entry) === 6 ? entry : undefined);
    const port = match?.[2] === undefined ? defaultPort : Number(match[2]);
    if (host === undefined || !(isIP(host) !== 0 || HOST_NAME.test(host))) return undefined;
    if (!(port >= 1 && port <= 65535)) return undefined;
    hosts.push({ host, port });
  }
  return hosts;
}

function isMulticastV4(address: string): boolean {
  if (!isIPv4(address)) return false;
  const first = Number(address.split('.')[0]);
  return first >= 224 && first <= 239;
}

/** Reads one key at a time; a bad value is one line naming the key, what it must be, and the file. */
class SettingReader {
  constructor(
    private readonly sections: IniSections,
    private readonly file: string,
  ) {}

  string(section: string, key: string, valid: (value: string) => boolean, expected: string): string | undefined {
    const value = iniValue(this.sections, section, key);
    if (value !== undefined && !valid(value)) this.fail(section, key, expected, value);
    return value;
  }

  integer(section: string, key: string, fallback: number, min: number, max: number): number {
    const value = iniValue(this.sections, section, key);
    if (value === undefined) return fallback;
    const number = Number(value);
    if (!/^\d+$/.test(value) || number < min || number > max)
      this.fail(section, key, `an integer from ${min} to ${max}`, value);
    return number;
  }

  private fail(section: string, key: string, expected: string, got: string): never {
    throw new UserError(`[${section}] ${key} must be ${expected}, got "${got}" (in ${this.file})`, {
      field: `${section}.${key}`,
      code: 'invalid_config',
    });
  }
}
