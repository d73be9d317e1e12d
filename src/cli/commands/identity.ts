import { hostname } from 'node:os';
import type { Command } from 'commander';
import { action } from '../run.js';
import { withCommonOptions } from '../options.js';
import { resolveHome } from '../../config/home.js';
import { formatFields } from '../format.js';

/** `kiln identity [--regenerate]`: this host's UUID in network.cfg. */
export function registerIdentityCommand(program: Command): void {
  withCommonOptions(program.command('identity'))
    .description("show this host's UUID (network.cfg [Local] UUID), creating it on first use")
    .option('--regenerate', 'replace the UUID: only for a cloned machine that shares another host\u2019s UUID')
    .action(
      action(async (flags: { home?: string; regenerate?: boolean }) => {
        const home = resolveHome(flags.home);
        const { ensureHostIdentity, regenerateHostIdentity } = await import('../../config/host-identity.js');
        if (flags.regenerate) {
          const { previous, uuid } = await regenerateHostIdentity(home);
          process.stderr.write(
            `kiln: warning: replaced this host's UUID ${previous ?? '(none)'} with ${uuid}; ` +
              'do this only on a cloned machine, and restart its Kiln services so they announce the new one\n',
          );
        }
        const config = await ensureHostIdentity(home);
        console.log(
          formatFields([
            ['UUID', config.uuid],
            ['Host', hostname()],
            ['File', config.file],
          ]),
        );
      }),
    );
}
