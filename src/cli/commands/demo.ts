import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { action } from '../run.js';
import { withCommonOptions } from '../options.js';
import { resolveHome } from '../../config/home.js';
import { loadConfig } from '../../config/load.js';
import { DbConfigSchema, DB_DEFAULTS } from '../../db/config.js';
import { ensureRunning } from '../../db/igniter.js';
import { clusterStatus } from '../../db/status.js';

/** Until the farm exists, the demo brings up the embedded database and shows its status. */
export function registerDemoCommand(program: Command): void {
  withCommonOptions(program.command('demo'))
    .description('bring up Kiln on this machine and show what runs')
    .action(action(async (flags: { home?: string }) => {
      const home = resolveHome(flags.home);
      const config = loadConfig('db', DbConfigSchema, DB_DEFAULTS, { home });
      const data = resolve(config.data ?? join(home, 'db'));
      const { created, started } = await ensureRunning({ data, port: config.port, auth: config.auth, clients: config.clients, listen: config.listen });
      console.log(created ? `Created and started the database in ${data}.` : started ? 'Started the database.' : 'The database was already running.');
      const status = await clusterStatus(data);
      console.log(JSON.stringify({ running: status.running, pid: status.pid, port: status.port, version: status.version, auth: status.auth, maxConnections: status.connections.max }, null, 2));
      console.log('Stop it with `kiln db stop`; remove it with `kiln db destroy`.');
    }));
}
