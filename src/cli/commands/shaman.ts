import type { Command } from 'commander';
import { action } from '../run.js';
import { managerUrl, readApiToken, withManagerOptions, type ManagerFlags } from '../client.js';
import { resolveHome } from '../../config/home.js';
import { UserError } from '../../util/errors.js';
import type { GcReport } from '../../storage/index.js';

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
        const token = readApiToken(resolveHome(flags.home));
        let response: Response;
        const url = managerUrl(flags);
        try {
          response = await fetch(`${url}/api/v1/shaman/gc`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              ...(token ? { authorization: `Bearer ${token.token}` } : {}),
            },
            body: JSON.stringify({ dryRun: Boolean(flags.dryRun), ...(maxAgeSeconds ? { maxAgeSeconds } : {}) }),
          });
        } catch (error) {
          throw new UserError(`cannot reach the manager at ${url}: ${(error as Error).message}`);
        }
        const body = (await response.json()) as GcReport & { error?: { message: string } };
        if (!response.ok) throw new UserError(body.error?.message ?? `garbage collection failed (${response.status})`);
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
