/**
 * `kiln ports`: every port Kiln uses under this host's configuration, with protocol and purpose,
 * for whoever sets up the firewall.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { action } from '../run.js';
import { withCommonOptions } from '../options.js';
import { resolveHome } from '../../config/home.js';
import { loadConfig } from '../../config/load.js';
import { loadNetworkConfig } from '../../config/network-config.js';
import { DB_DEFAULTS, DbConfigSchema } from '../../db/config.js';
import { formatTable, printJson } from '../format.js';
import { managerSettings } from './manager.js';

interface PortLine {
  port: string;
  protocol: string;
  purpose: string;
}

/** Linux's ephemeral range: outgoing connections' local ports (and programs that bind port 0). */
async function ephemeralRange(): Promise<string | undefined> {
  try {
    const text = await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8');
    const [lower, upper] = text.trim().split(/\s+/);
    return lower && upper ? `${lower}-${upper}` : undefined;
  } catch {
    return undefined;
  }
}

async function kilnPorts(home: string): Promise<PortLine[]> {
  const network = loadNetworkConfig(home);
  const manager = managerSettings({ home }).config;
  const managerPort = manager.listen.slice(manager.listen.lastIndexOf(':') + 1);
  const db = loadConfig('db', DbConfigSchema, DB_DEFAULTS, { home });
  const { port, scope, ttl } = network.selfDiscovery;
  const lines: PortLine[] = [
    {
      port: managerPort,
      protocol: 'tcp',
      purpose: 'manager: HTTP API, events, Shaman (manager.yaml listen)',
    },
    { port: String(db.port), protocol: 'tcp', purpose: 'database: PostgreSQL run by `kiln db` (db.yaml port)' },
    {
      port: String(port),
      protocol: 'udp',
      purpose: `self-discovery: multicast to ${scope}, TTL ${ttl} (network.cfg [Self Discovery])`,
    },
    { port: '5353', protocol: 'udp', purpose: 'DNS-SD (mDNS): _kiln-manager._tcp, _kiln-db._tcp' },
    {
      port: String(network.ioPriority.port),
      protocol: 'tcp',
      purpose: 'I/O priority: foreground applications listen, background work connects (network.cfg [IO Priority])',
    },
    {
      port: `${network.dynamicPorts.lower}-${network.dynamicPorts.upper}`,
      protocol: 'tcp,udp',
      purpose:
        'dynamic ports: arbitrary ports Kiln services take, e.g. self-discovery replies (network.cfg [Dynamic Ports])',
    },
  ];
  const ephemeral = await ephemeralRange();
  if (ephemeral)
    lines.push({
      port: ephemeral,
      protocol: 'tcp,udp',
      purpose: "Linux's ephemeral range (net.ipv4.ip_local_port_range): other programs' arbitrary ports",
    });
  return lines;
}

export function registerPortsCommand(program: Command): void {
  withCommonOptions(program.command('ports'))
    .description('list every port Kiln uses under this configuration, with protocol and purpose (for firewalls)')
    .option('--json', 'print a JSON array')
    .action(
      action(async (flags: { home?: string; json?: boolean }) => {
        const lines = await kilnPorts(resolveHome(flags.home));
        if (flags.json) printJson(lines);
        else
          console.log(
            formatTable(
              [
                { header: 'PORT', value: (line: PortLine) => line.port, align: 'right' },
                { header: 'PROTOCOL', value: (line: PortLine) => line.protocol },
                { header: 'PURPOSE', value: (line: PortLine) => line.purpose },
              ],
              lines,
            ),
          );
      }),
    );
}
