import type { Command } from 'commander';
import type { Worker, WorkerControl } from '../../client/index.js';
import { UserError } from '../../util/errors.js';
import { action } from '../run.js';
import { withManager, withManagerOptions, type ManagerFlags } from '../client.js';
import { formatAge, formatTable, printJson, shortId, shortTaskId, type Column } from '../format.js';
import { resolveWorkerId } from '../ids.js';

/** `awake`, or `awake → asleep after task` while a change is requested. */
export function workerStatus(worker: Pick<Worker, 'status' | 'statusRequested' | 'lazyStatusRequest'>): string {
  if (!worker.statusRequested || worker.statusRequested === worker.status) return worker.status;
  return `${worker.status} → ${worker.statusRequested}${worker.lazyStatusRequest ? ' after task' : ''}`;
}

const WORKER_COLUMNS: Array<Column<Worker>> = [
  { header: 'ID', value: (worker) => shortId(worker.id) },
  { header: 'NAME', value: (worker) => worker.name, max: 32 },
  { header: 'STATUS', value: workerStatus },
  { header: 'PLATFORM', value: (worker) => worker.platform },
  { header: 'TAGS', value: (worker) => worker.tags.join(',') || '-', max: 30 },
  { header: 'TASK', value: (worker) => (worker.currentTaskId ? shortTaskId(worker.currentTaskId) : '-') },
  { header: 'SEEN', value: (worker) => formatAge(worker.lastSeenAt), align: 'right' },
  { header: 'ADDRESS', value: (worker) => worker.address || '-' },
];

const CONTROLS: Array<{ action: WorkerControl['action']; description: string }> = [
  { action: 'sleep', description: 'put a worker to sleep: it takes no tasks until woken' },
  { action: 'wake', description: 'wake a sleeping worker' },
  { action: 'shutdown', description: "stop a worker's process" },
  { action: 'restart', description: "restart a worker's process" },
];

export function registerWorkersCommands(program: Command): void {
  const workers = program
    .command('workers')
    .description('list and control workers (by name, id, or a unique id prefix of 4+ characters)');

  withManagerOptions(workers.command('ls'))
    .description('list the workers the manager knows')
    .action(
      action((flags: ManagerFlags) =>
        withManager(flags, async ({ api }) => {
          const list = await api.listWorkers();
          if (flags.json) return printJson(list);
          if (list.workers.length === 0) return void console.log('no workers');
          console.log(formatTable(WORKER_COLUMNS, list.workers));
        }),
      ),
    );

  for (const { action: control, description } of CONTROLS) {
    withManagerOptions(workers.command(control).argument('<worker>', 'worker name, id or unique id prefix'))
      .description(`${description}; by default after its current task`)
      .option('--now', 'at once: the current task is stopped and queued again')
      .action(
        action((given: string, flags: ManagerFlags & { now?: boolean }) =>
          withManager(flags, async ({ api }) => {
            const id = await resolveWorkerId(api, given);
            await api.controlWorker(id, { action: control, when: flags.now ? 'now' : 'after-task' });
            const worker = await api.getWorker(id);
            if (flags.json) return printJson(worker);
            console.log(`worker ${JSON.stringify(worker.name)} (${shortId(worker.id)}): ${workerStatus(worker)}`);
          }),
        ),
      );
  }

  withManagerOptions(
    workers
      .command('tag')
      .argument('<worker>', 'worker name, id or unique id prefix')
      .argument('[tags...]', "the worker's new tags"),
  )
    .description("replace a worker's tags (jobs with a tag only run on workers that have it)")
    .option('--clear', 'remove all its tags')
    .action(
      action((given: string, tags: string[], flags: ManagerFlags & { clear?: boolean }) =>
        withManager(flags, async ({ api }) => {
          const wanted = [...new Set(tags.map((tag) => tag.trim()).filter(Boolean))];
          if (flags.clear && wanted.length > 0) throw new UserError('give tags or --clear, not both');
          if (!flags.clear && wanted.length === 0)
            throw new UserError('give the new tags (they replace the old ones), or --clear to remove them all');
          const id = await resolveWorkerId(api, given);
          await api.setWorkerTags(id, wanted);
          const worker = await api.getWorker(id);
          if (flags.json) return printJson(worker);
          console.log(
            `worker ${JSON.stringify(worker.name)} (${shortId(worker.id)}): tags ${worker.tags.join(', ') || '(none)'}`,
          );
        }),
      ),
    );
}
