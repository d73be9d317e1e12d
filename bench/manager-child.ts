/**
 * Child-process entry for benchmarks: runs one Kiln manager, so that the simulated workers do
 * not share its event loop and its RSS and CPU can be read from /proc. Driven over IPC by
 * bench/kiln.ts; exits when the parent goes away.
 */
import { join } from 'node:path';
import pino from 'pino';
import { startManager, type RunningManager } from '../src/manager/main.js';
import { MANAGER_DEFAULTS, type ManagerConfig } from '../src/manager/config.js';

type Message =
  | {
      id: number;
      type: 'start';
      home: string;
      databaseUrl: string;
      logFile: string;
      overrides?: Partial<ManagerConfig>;
    }
  | { id: number; type: 'stats' }
  | { id: number; type: 'close' };

let manager: RunningManager | undefined;
const reply = (id: number, body: Record<string, unknown>): void => {
  if (!process.send) throw new Error('manager-child runs forked by bench/kiln.ts, with an IPC channel');
  process.send({ id, ...body });
};

process.on('message', (message: Message) => {
  void (async () => {
    try {
      if (message.type === 'start') {
        const config: ManagerConfig = {
          ...MANAGER_DEFAULTS,
          listen: '127.0.0.1:0',
          open: true,
          database_url: message.databaseUrl,
          data: join(message.home, 'data'),
          // Benchmarks of the manager do not announce it on the host's network.
          discovery: { enabled: false, dns_sd: false },
          ...message.overrides,
        };
        // Warnings and errors go to a file the benchmark summarizes (errors under load).
        const log = pino({ level: 'warn' }, pino.destination({ dest: message.logFile, sync: false }));
        manager = await startManager({ home: message.home, config, log });
        reply(message.id, { url: manager.url, farmSecret: manager.farmSecret });
      } else if (message.type === 'stats') {
        const dispatcher = manager?.services.dispatcher;
        reply(message.id, {
          cpu: process.cpuUsage(),
          memory: process.memoryUsage(),
          rounds: dispatcher?.stats.rounds,
          assigned: dispatcher?.stats.assigned,
          waiting: dispatcher?.waiting,
          updateBatches: manager?.services.taskUpdates.stats.batches,
          notifies: manager?.cluster.link.stats,
        });
      } else if (message.type === 'close') {
        await manager?.close();
        manager = undefined;
        reply(message.id, {});
        // Let the reply flush (and --cpu-prof write its profile) before leaving.
        setTimeout(() => process.exit(0), 50);
      }
    } catch (error) {
      reply(message.id, { error: error instanceof Error ? `${error.message}\n${error.stack}` : String(error) });
    }
  })();
});
process.on('disconnect', () => process.exit(0));
