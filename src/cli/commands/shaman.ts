import type { Command } from 'commander';
import { action } from '../run.js';
import { withManager, withManagerOptions, type ManagerFlags } from '../client.js';
import { UserError } from '../../util/errors.js';

export function registerShamanCommands(program: Command): void {
  const shaman = program.command('shaman').description('the content-addressed file store on shared storage');
  withManagerOptions(shaman.command('gc'))
    .description('remove stored files no job folder links to any more (older than shaman.gc.max_age)')
    .option('--dry-run', 'only report what would be removed')
    .option('--max-age <seconds>', 'override the age limit')
    .action(
      action(async (flags: ManagerFlags & { dryRun?: boolean; maxAge?: string }) => {
        const maxAgeSeconds = flags.maxAge === undefined ? undefined : Number(flags.maxAge);
        if (maxAgeSeconds !== undefined && !(maxAgeSeconds > 0))
          throw new UserError(`--max-age must be a positive number of seconds, got "${flags.maxAge}"`, {
            field: 'max-age',
          });
        const body = await withManager(
          flags,
          ({ api }) =>
            api.storage.collectGarbage({ dryRun: Boolean(flags.dryRun), ...(maxAgeSeconds ? { maxAgeSeconds } : {}) }),
          (field) => (field === 'maxAgeSeconds' ? '--max-age' : undefined),
        );
        if (flags.json) {
          console.log(JSON.stringify(body, null, 2));
          return;
        }
        const mib = (body.bytesRemoved / 1048576).toFixed(1);
        console.log(
          body.dryRun
            ? `Would remove ${body.blobsRemoved} of ${body.blobsScanned} stored files (${mib} MiB); ${body.blobsReferenced} are in use.`
            : `Removed ${body.blobsRemoved} of ${body.blobsScanned} stored files (${mib} MiB); ${body.blobsReferenced} are in use.`,
        );
        for (const path of body.wouldRemove.slice(0, 20)) console.log(`  ${path}`);
      }),
    );
}
