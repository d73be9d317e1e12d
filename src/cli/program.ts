import { Command } from 'commander';
import { registerDbCommands } from './commands/db.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerManagerCommands } from './commands/manager.js';
import { registerWorkerCommand } from './commands/worker.js';
import { registerShamanCommands } from './commands/shaman.js';
import { registerSubmitCommand } from './commands/submit.js';
import { registerJobsCommands } from './commands/jobs.js';
import { registerTasksCommands } from './commands/tasks.js';
import { registerWorkersCommands } from './commands/workers.js';
import { registerJobTypesCommands } from './commands/job-types.js';
import { registerIdentityCommand } from './commands/identity.js';
import { registerPortsCommand } from './commands/ports.js';
import { registerIoCommands } from './commands/io.js';
import { registerServicesMapCommands } from './commands/services-map.js';
import { registerServicesSnapshotCommand } from './commands/services-snapshot.js';
import { KILN_VERSION } from '../util/version.js';

export function buildProgram(): Command {
  const program = new Command('kiln')
    .description('Render farm and shared-project services for a studio network')
    .version(KILN_VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, 'kiln: ')) });
  registerDbCommands(program);
  registerDemoCommand(program);
  registerManagerCommands(program);
  registerWorkerCommand(program);
  registerShamanCommands(program);
  registerSubmitCommand(program);
  registerJobsCommands(program);
  registerTasksCommands(program);
  registerWorkersCommands(program);
  registerJobTypesCommands(program);
  registerIdentityCommand(program);
  registerPortsCommand(program);
  registerIoCommands(program);
  const services = program.command('services').description('Kiln services on the network: map, monitor, snapshot');
  registerServicesMapCommands(services);
  registerServicesSnapshotCommand(services);
  return program;
}
