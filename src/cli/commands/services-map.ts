/**
 * `kiln services map` and `kiln services monitor`: what Kiln services this host hears of. `map`
 * merges every source (multicast self-discovery, DNS-SD, services.cfg) into one row per service
 * with its sources and age; `monitor` follows multicast self-discovery, the one source that
 * reports appearances and disappearances as they happen.
 */
import type { Command } from 'commander';
import { action } from '../run.js';
import { withCommonOptions } from '../options.js';
import { resolveHome } from '../../config/home.js';
import { UserError } from '../../util/errors.js';
import { formatTable, printJson, type Column } from '../format.js';
import type { RegistryChange } from '../../discovery/registry.js';
import type { MergedEntry } from '../../discovery/merge-entries.js';
import type { ServiceEntry } from '../../discovery/types.js';

const ENTRY_COLUMNS: Array<Column<MergedEntry>> = [
  { header: 'KIND', value: (entry) => entry.kind },
  { header: 'HOST', value: (entry) => entry.host, max: 32 },
  { header: 'ADDRESSES', value: (entry) => entry.addresses.join(','), max: 40 },
  { header: 'PORTS', value: describePorts },
  { header: 'UUID', value: (entry) => `${entry.uuid.slice(0, 8)}${entry.duplicateUuid ? ' DUPLICATE' : ''}` },
  { header: 'SOURCES', value: (entry) => entry.sources.join(',') },
  { header: 'AGE', value: (entry) => formatSeconds(Date.now() - entry.seenAt), align: 'right' },
  { header: 'VERSION', value: (entry) => entry.version },
];

function describePorts(entry: Pick<ServiceEntry, 'ports'>): string {
  return Object.entries(entry.ports)
    .map(([name, port]) => `${name}=${port}`)
    .join(',');
}

function formatSeconds(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(1)}s`;
}

function parseWait(text: string): number {
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600)
    throw new UserError(`--wait: expected seconds from 0 to 3600, got "${text}"`, { field: 'wait' });
  return seconds;
}

async function networkFor(home: string) {
  const { ensureHostIdentity } = await import('../../config/host-identity.js');
  return ensureHostIdentity(home);
}

/** Adds `map` and `monitor` under the `services` command. */
export function registerServicesMapCommands(services: Command): void {
  withCommonOptions(services.command('map'))
    .description(
      'list the Kiln services known from multicast, DNS-SD and services.cfg, one row each, with sources and age',
    )
    .option('--json', 'print a JSON array')
    .option('--wait <seconds>', 'how long to collect answers', '1')
    .action(
      action(async (flags: { home?: string; json?: boolean; wait: string }) => {
        const timeoutMs = parseWait(flags.wait) * 1000;
        const home = resolveHome(flags.home);
        const network = await networkFor(home);
        const { multicastWarnings } = await import('../../discovery/multicast-health.js');
        for (const warning of await multicastWarnings(network.selfDiscovery))
          process.stderr.write(`kiln: warning: ${warning}\n`);
        const { collectServices } = await import('../../discovery/collect-services.js');
        const result = await collectServices({ home, network, timeoutMs });
        for (const problem of result.problems) process.stderr.write(`kiln: warning: ${problem}\n`);
        for (const uuid of result.duplicateUuids)
          process.stderr.write(
            `kiln: warning: two hosts announce UUID ${uuid}; run \`kiln identity --regenerate\` on the cloned one\n`,
          );
        if (flags.json) {
          const now = Date.now();
          printJson(result.entries.map((entry) => ({ ...entry, ageMs: Math.max(0, now - entry.seenAt) })));
        } else if (result.entries.length) console.log(formatTable(ENTRY_COLUMNS, result.entries));
        else console.log(`no Kiln services found (${result.sources.join(', ')}) within ${flags.wait}s`);
      }),
    );

  withCommonOptions(services.command('monitor'))
    .description('print a line for each service that appears, changes or disappears, until interrupted')
    .action(
      action(async (flags: { home?: string }) => {
        const network = await networkFor(resolveHome(flags.home));
        const { default: pino } = await import('pino');
        const { startSelfDiscovery } = await import('../../discovery/self-discovery.js');
        const logger = pino({ level: 'warn' }, pino.destination(2));
        const member = await startSelfDiscovery({ network, logger });
        member.registry.on('change', (change) => console.log(describeChange(change)));
        console.log(`monitoring ${network.selfDiscovery.scope}:${network.selfDiscovery.port} (Ctrl-C to stop)`);
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await member.stop();
        return 0;
      }),
    );
}

function describeChange(change: RegistryChange): string {
  const { entry } = change;
  const what = change.type === 'disappeared' ? `disappeared (${change.reason})` : change.type;
  return [
    new Date().toISOString(),
    what.padEnd(11),
    entry.kind,
    entry.host,
    entry.addresses.join(','),
    describePorts(entry),
    `uuid=${entry.uuid}${entry.duplicateUuid ? ' DUPLICATE-UUID' : ''}`,
  ].join(' ');
}
