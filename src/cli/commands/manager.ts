import { join } from 'node:path';
import type { Command } from 'commander';
import type { Kysely } from 'kysely';
import { action } from '../run.js';
import { withCommonOptions } from '../options.js';
import { resolveHome } from '../../config/home.js';
import { DEFAULT_MANAGER_PORT } from '../../config/ports.js';
import { loadConfig } from '../../config/load.js';
import { writeFileAtomic } from '../../util/fs.js';
import { ManagerConfigSchema, MANAGER_DEFAULTS, type ManagerConfig } from '../../manager/config.js';
import type { Database } from '../../manager/persistence/schema/tables.js';

interface ManagerFlags {
  home?: string;
  listen?: string;
  databaseUrl?: string;
  open?: boolean;
}

export function managerSettings(flags: ManagerFlags): { home: string; config: ManagerConfig } {
  const home = resolveHome(flags.home);
  const config = loadConfig('manager', ManagerConfigSchema, MANAGER_DEFAULTS, {
    home,
    flags: { listen: flags.listen, database_url: flags.databaseUrl, open: flags.open },
  });
  return { home, config };
}

/** Runs `fn` with the manager's database (without starting a manager). */
async function withManagerDatabase<T>(flags: ManagerFlags, fn: (db: Kysely<Database>) => Promise<T>): Promise<T> {
  // Loaded when used: every `kiln` command starts faster without the database layer.
  const { createKysely, createPool, migrateToLatest } = await import('../../db/database.js');
  const { chooseDatabase } = await import('../../manager/database-choice.js');
  const { home, config } = managerSettings(flags);
  const { target } = await chooseDatabase(home, config, { maxConnections: 2, embedded: 'running' });
  const db = createKysely<Database>(createPool(target));
  try {
    await migrateToLatest(db as unknown as Kysely<unknown>);
    return await fn(db);
  } finally {
    await db.destroy();
  }
}

export function registerManagerCommands(program: Command): void {
  const manager = withCommonOptions(program.command('manager'))
    .description(`run the job manager (HTTP API on port ${DEFAULT_MANAGER_PORT}); stops cleanly on Ctrl-C or SIGTERM`)
    .option('--listen <host:port>', `address to listen on (default ${MANAGER_DEFAULTS.listen})`)
    .option(
      '--database-url <url>',
      "PostgreSQL URL; default: the igniter's cluster under --home, created and started as needed",
    )
    .option('--open', 'trusted network: no API token needed for changes')
    .action(
      action(async (flags: ManagerFlags) => {
        const { home, config } = managerSettings(flags);
        const { default: pino } = await import('pino');
        const { startManager } = await import('../../manager/main.js');
        const log = pino({ name: 'kiln-manager' }, pino.destination(2));
        const running = await startManager({ home, config, log });
        process.stdout.write(
          `Kiln manager on ${running.url} (API ${running.url}/api/v1, docs ${running.url}/api/v1/docs)\n`,
        );
        await new Promise<void>((resolvePromise) => {
          const stop = (signal: string): void => {
            log.info({ signal }, 'shutting down');
            void running.close().then(resolvePromise);
          };
          process.once('SIGINT', () => stop('SIGINT'));
          process.once('SIGTERM', () => stop('SIGTERM'));
        });
      }),
    );

  withCommonOptions(manager.command('secret'))
    .description('print the farm secret workers register with')
    .option('--database-url <url>', 'PostgreSQL URL of the manager')
    .action(
      action(async (_flags: ManagerFlags, command: Command) => {
        // --home and --database-url may be given before or after `secret`.
        const flags = command.optsWithGlobals<ManagerFlags>();
        const { ensureFarmSecret } = await import('../../manager/auth/secrets.js');
        const secret = await withManagerDatabase(flags, (db) => ensureFarmSecret(db));
        console.log(secret);
      }),
    );

  withCommonOptions(manager.command('token'))
    .description('create an API token for the CLI and dashboard; kept in <home>/api-token for this machine')
    .option('--database-url <url>', 'PostgreSQL URL of the manager')
    .option('--label <text>', 'what the token is for', 'cli')
    .action(
      action(async (_flags: ManagerFlags & { label: string }, command: Command) => {
        const flags = command.optsWithGlobals<ManagerFlags & { label: string }>();
        const { createApiToken } = await import('../../manager/auth/secrets.js');
        const token = await withManagerDatabase(flags, (db) => createApiToken(db, flags.label));
        const home = resolveHome(flags.home);
        await writeFileAtomic(join(home, 'api-token'), `${token}\n`, 0o600);
        console.log(token);
      }),
    );
}
