/**
 * `kiln services snapshot [-h HOST]... [-p PORT]... [-f FILE]`: probe hosts for Kiln services and
 * merge what answers into services.cfg (default `<home>/services.cfg`), for networks where
 * multicast does not reach. `-h` is a host here, as in the services_snapshot tools studios know;
 * help is `--help`.
 */
import type { Command } from 'commander';
import { action } from '../run.js';
import { withCommonOptions } from '../options.js';
import { resolveHome } from '../../config/home.js';
import { UserError } from '../../util/errors.js';

interface SnapshotFlags {
  home?: string;
  host?: string[];
  port?: number[];
  file?: string;
  timeout: number;
}

/** Repeatable options: each use adds one (commander hands over the list so far, if any). */
const collect =
  <T>(parse: (text: string) => T) =>
  (value: string, previous: T[] | undefined): T[] => [...(Array.isArray(previous) ? previous : []), parse(value)];

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535)
    throw new UserError(`-p ${text}: a port is a number from 1 to 65535`, { field: 'port' });
  return port;
}

function parseTimeout(text: string): number {
  const ms = Number(text);
  if (!Number.isInteger(ms) || ms < 10 || ms > 1000)
    throw new UserError(`--timeout ${text}: milliseconds from 10 to 1000`, { field: 'timeout' });
  return ms;
}

/** Adds `snapshot` under the `services` command. */
export function registerServicesSnapshotCommand(services: Command): void {
  withCommonOptions(services.command('snapshot'))
    .helpOption('--help', 'show help for this command')
    .description('probe hosts for Kiln services (manager 7780, database 7533) and merge them into services.cfg')
    .option('-h, --host <host>', 'a host to probe (repeatable; default: this host)', collect(String))
    .option('-p, --port <port>', 'probe this port instead of the defaults (repeatable)', collect(parsePort))
    .option('-f, --file <path>', 'the file to merge into (default: <home>/services.cfg)')
    .option('--timeout <ms>', 'how long each probe waits', parseTimeout, 1000)
    .action(
      action(async (_flags: SnapshotFlags, command: Command) => {
        const flags = command.optsWithGlobals<SnapshotFlags>();
        const { snapshotServices } = await import('../../discovery/snapshot.js');
        const { mergeIntoServicesDocument, ServicesFileError } = await import('../../discovery/services-file.js');
        const { readServicesDocument, servicesFilePath, writeServicesDocument } = await import(
          '../../discovery/services-store.js'
        );
        const file = flags.file ?? servicesFilePath(resolveHome(flags.home));
        // Read (and so check) the file before probing: a broken file stops here, untouched.
        const document = await readServicesDocument(file).catch((error: unknown) => {
          if (error instanceof ServicesFileError) throw new UserError(error.message);
          throw new UserError(`cannot read ${file}: ${(error as Error).message}`);
        });
        const found = await snapshotServices({
          hosts: flags.host ?? [],
          ports: flags.port ?? [],
          timeoutMs: flags.timeout,
          onProgress: (target, what) => process.stderr.write(`${target}: ${what ?? 'nothing Kiln knows'}\n`),
        });
        const { added, updated } = mergeIntoServicesDocument(document, found);
        await writeServicesDocument(file, document);
        process.stdout.write(`${file}: ${found.length} found, ${added} added, ${updated} updated\n`);
      }),
    );
}
