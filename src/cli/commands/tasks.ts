import type { Command } from 'commander';
import type { ApiClient, Task } from '../../client/index.js';
import { UserError } from '../../util/errors.js';
import { action } from '../run.js';
import { followChanges, withInterrupt, withManager, withManagerOptions, type ManagerFlags } from '../client.js';
import { formatAge, formatTable, printJson, shortId, statusWithActivity, type Column } from '../format.js';
import { isUuid, parseIntOption, resolveJobId } from './jobs.js';

const FINAL_TASK_STATUSES: ReadonlySet<string> = new Set(['completed', 'failed', 'canceled']);

/** Task ids are shown in full by `tasks ls`: the API cannot look a task up by a prefix. */
function taskId(given: string): string {
  const text = given.trim().toLowerCase();
  if (!isUuid(text))
    throw new UserError(`"${given}" is not a task id; give the full id as \`kiln tasks ls JOB\` prints it`, {
      field: 'id',
    });
  return text;
}

function taskColumns(workerNames: Map<string, string>): Array<Column<Task>> {
  return [
    { header: 'ID', value: (task) => task.id },
    { header: '#', value: (task) => String(task.index), align: 'right' },
    { header: 'NAME', value: (task) => task.name, max: 32 },
    { header: 'TYPE', value: (task) => task.type },
    { header: 'STATUS', value: (task) => task.status },
    { header: 'PROGRESS', value: (task) => `${Math.round(task.progress * 100)}%`, align: 'right' },
    {
      header: 'WORKER',
      value: (task) => (task.workerId ? (workerNames.get(task.workerId) ?? shortId(task.workerId)) : '-'),
      max: 24,
    },
    { header: 'UPDATED', value: (task) => formatAge(task.lastTouchedAt ?? task.updatedAt), align: 'right' },
    { header: 'ACTIVITY', value: (task) => task.activity || '-', max: 50 },
  ];
}

interface LogFlags extends ManagerFlags {
  tail?: string;
  follow?: boolean;
}

/** Where the printed log ends, so a follow prints each line once. */
interface LogCursor {
  printed: number;
}

function emitLines(text: string, json: boolean | undefined): void {
  if (!text) return;
  if (!json) return void process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  for (const line of lines) process.stdout.write(`${JSON.stringify({ line })}\n`);
}

/** The last `count` lines of a text, or all of it. */
function lastLines(text: string, count: number | undefined): string {
  if (count === undefined) return text;
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const kept = lines.slice(-count);
  return kept.length === 0 ? '' : `${kept.join('\n')}\n`;
}

/**
 * Prints a task's log as it grows until the task ends (or Ctrl-C). Each look fetches the log
 * and prints what lies past the cursor, so no line is lost or printed twice, whether the
 * events that say "it grew" arrive or not.
 */
async function followLog(api: ApiClient, task: Task, cursor: LogCursor, json: boolean | undefined): Promise<void> {
  await withInterrupt((signal) =>
    followChanges(
      api,
      {
        job: task.jobId,
        wakeOn: (event) =>
          (event.event === 'log' || event.event === 'task') &&
          (event.data as { taskId?: unknown } | null)?.taskId === task.id,
        signal,
      },
      async () => {
        try {
          // The status first: when it is final, the log read after it has every line.
          const { status } = await api.getTask(task.id, { signal });
          const text = await api.taskLog(task.id, { signal });
          emitLines(text.slice(cursor.printed), json);
          cursor.printed = Math.max(cursor.printed, text.length);
          return FINAL_TASK_STATUSES.has(status);
        } catch (error) {
          if (signal.aborted) return true;
          throw error;
        }
      },
    ),
  );
}

export function registerTasksCommands(program: Command): void {
  const tasks = program.command('tasks').description('the tasks of a job and their logs');

  withManagerOptions(tasks.command('ls').argument('<job>', 'job id or unique prefix'))
    .description("list a job's tasks")
    .option('--status <status>', 'only tasks with this status (comma-separated for several)')
    .action(
      action((job: string, flags: ManagerFlags & { status?: string }) =>
        withManager(flags, async ({ api }) => {
          const jobId = await resolveJobId(api, job);
          const list = await api.listTasks(jobId);
          const wanted = flags.status
            ?.split(',')
            .map((s) => s.trim())
            .filter(Boolean);
          const shown = wanted ? list.tasks.filter((task) => wanted.includes(task.status)) : list.tasks;
          if (flags.json) return printJson({ tasks: shown });
          if (shown.length === 0) return void console.log(wanted ? `no ${wanted.join(' or ')} tasks` : 'no tasks');
          const workers = shown.some((task) => task.workerId) ? (await api.listWorkers()).workers : [];
          console.log(formatTable(taskColumns(new Map(workers.map((w) => [w.id, w.name]))), shown));
        }),
      ),
    );

  withManagerOptions(tasks.command('show').argument('<task>', 'task id (in full)'))
    .description('show one task')
    .action(
      action((given: string, flags: ManagerFlags) =>
        withManager(flags, async ({ api }) => {
          const task = await api.getTask(taskId(given));
          if (flags.json) return printJson(task);
          console.log(
            `task ${task.id} #${task.index} ${JSON.stringify(task.name)} of job ${shortId(task.jobId)}: ${statusWithActivity(task.status, task.activity)}, ${Math.round(task.progress * 100)}%`,
          );
        }),
      ),
    );

  withManagerOptions(tasks.command('log').argument('<task>', 'task id (in full, as `kiln tasks ls JOB` prints it)'))
    .description("print a task's log")
    .option('--tail <n>', 'only the last n lines (1-10000)')
    .option('--follow', 'keep printing new lines until the task ends (Ctrl-C stops)')
    .addHelpText('after', '\nWith --json: {"lines": [...]}; with --json --follow: one {"line": "..."} per line.')
    .action(
      action((given: string, flags: LogFlags) =>
        withManager(flags, async ({ api }) => {
          const id = taskId(given);
          const tail = flags.tail === undefined ? undefined : parseIntOption('--tail', flags.tail, 1, 10_000);
          if (!flags.follow) {
            const lines =
              tail === undefined ? splitLog(await api.taskLog(id)) : (await api.taskLogTail(id, tail)).lines;
            if (flags.json) return printJson({ lines });
            for (const line of lines) process.stdout.write(`${line}\n`);
            return;
          }
          const task = await api.getTask(id);
          const text = await api.taskLog(id);
          emitLines(lastLines(text, tail), flags.json);
          await followLog(api, task, { printed: text.length }, flags.json);
        }),
      ),
    );
}

function splitLog(text: string): string[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}
