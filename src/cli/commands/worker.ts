import type { Command } from 'commander';
import { action } from '../run.js';
import { withCommonOptions } from '../options.js';

export function registerWorkerCommand(program: Command): void {
  withCommonOptions(program.command('worker'))
    .description('run a worker: register once with the farm secret, then take and run tasks until stopped')
    .option(
      '--manager <url>',
      'the manager, e.g. http://farm:7780, or several of one farm comma-separated: the worker moves on when one is unreachable (default: worker.yaml, KILN_MANAGER, else found through services.cfg, multicast and DNS-SD)',
    )
    .option('--name <name>', 'worker name (default: this host name)')
    .option('--tags <a,b>', 'comma-separated tags; tagged jobs go only to workers with their tag')
    .option(
      '--secret <secret>',
      'farm secret for the first registration (or KILN_WORKER_SECRET; see `kiln manager secret`)',
    )
    .action(
      action(async (flags: { home?: string; manager?: string; name?: string; tags?: string; secret?: string }) => {
        const { runWorker } = await import('../../worker/main.js');
        return runWorker({
          home: flags.home,
          // An empty KILN_MANAGER means none: the worker finds its manager (services.cfg, multicast, DNS-SD).
          managerUrl: flags.manager ?? (process.env.KILN_MANAGER?.trim() || undefined),
          name: flags.name,
          tags: flags.tags
            ?.split(',')
            .map((tag) => tag.trim())
            .filter(Boolean),
          secret: flags.secret,
        });
      }),
    );
}
