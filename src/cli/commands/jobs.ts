import type { Command } from 'commander';
import type { BlocklistEntry, Job, JobAction } from '../../client/index.js';
import { resolveJobId, resolveWorkerId } from '../ids.js';

export { isUuid, resolveJobId } from '../ids.js';
import { UserError } from '../../util/errors.js';
import { action } from '../run.js';
import { withManager, withManagerOptions, type ManagerFlags } from '../client.js';
import {
  describeCounts,
  formatAge,
  formatFields,
  formatTable,
  jobLabel,
  jobProgress,
  printJson,
  shortId,
  statusWithActivity,
  type Column,
} from '../format.js';

/** The API's largest page of jobs. */
const PAGE = 1000;

/** A whole number from a command-line option, within bounds; else a UserError naming the option. */
export function parseIntOption(name: string, text: string, min: number, max: number): number {
  const value = Number(text.trim());
  if (!/^[+-]?\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new UserError(`${name} must be a whole number from ${min} to ${max}, got "${text}"`, { field: name });
  }
  return value;
}

const JOB_COLUMNS: Array<Column<Job>> = [
  { header: 'ID', value: (job) => shortId(job.id) },
  { header: 'NAME', value: (job) => job.name, max: 40 },
  { header: 'TYPE', value: (job) => job.type },
  { header: 'STATUS', value: (job) => job.status },
  { header: 'DONE', value: jobProgress, align: 'right' },
  { header: 'PRI', value: (job) => String(job.priority), align: 'right' },
  { header: 'AGE', value: (job) => formatAge(job.createdAt), align: 'right' },
];

function formatJobTable(jobs: readonly Job[]): string {
  return formatTable(JOB_COLUMNS, jobs);
}

/** A job's blocklist for people: "render-07 (render tasks, since 12m)". */
function formatBlocklist(blocklist: readonly BlocklistEntry[]): string | undefined {
  if (blocklist.length === 0) return undefined;
  return blocklist
    .map(
      (entry) =>
        `${entry.workerName} (${entry.taskType} tasks, since ${formatAge(entry.since)} ago; kiln jobs unblock to lift)`,
    )
    .join('; ');
}

function formatJob(job: Job, blocklist: readonly BlocklistEntry[] = []): string {
  const settings = JSON.stringify(job.settings);
  return formatFields([
    ['ID', job.id],
    ['Name', job.name],
    ['Type', job.type],
    ['Status', statusWithActivity(job.status, job.activity)],
    ['Priority', String(job.priority)],
    ['Tasks', `${jobProgress(job)} done (${describeCounts(job)})`],
    [
      'Frames',
      job.frames === null ? undefined : `${job.frames}${job.chunkSize === null ? '' : ` (chunks of ${job.chunkSize})`}`,
    ],
    ['Tag', job.tag ?? undefined],
    ['Blocklist', formatBlocklist(blocklist)],
    ['Storage', job.storage === null ? undefined : JSON.stringify(job.storage)],
    ['Settings', settings === '{}' ? undefined : settings],
    ['Metadata', Object.keys(job.metadata).length === 0 ? undefined : JSON.stringify(job.metadata)],
    ['Created', `${job.createdAt} (${formatAge(job.createdAt)} ago)`],
    ['Updated', `${job.updatedAt} (${formatAge(job.updatedAt)} ago)`],
  ]);
}

interface ListFlags extends ManagerFlags {
  status?: string;
  type?: string;
  tag?: string;
  limit?: string;
}

const JOB_ACTIONS: Array<{ action: JobAction; description: string }> = [
  {
    action: 'pause',
    description:
      'pause a job: queued tasks wait, running ones finish (the job is pause-requested until they end); --now stops them at once',
  },
  { action: 'resume', description: 'resume a paused (or pausing) job' },
  { action: 'cancel', description: 'cancel a job: queued tasks are canceled, running ones stopped' },
  {
    action: 'requeue',
    description: "queue a job's unfinished tasks again (all of them when it had completed) and clear its blocklist",
  },
];

export function registerJobsCommands(program: Command): void {
  const jobs = program
    .command('jobs')
    .description("list and control the farm's jobs (ids: full, or a unique prefix of 4+ characters)");
  registerListCommand(jobs);
  registerShowCommand(jobs);
  registerUnblockCommand(jobs);
  registerStatusCommands(jobs);
  registerPriorityCommand(jobs);
  registerDeleteCommand(jobs);
}

/** `kiln jobs ls` */
function registerListCommand(jobs: Command): void {
  withManagerOptions(jobs.command('ls'))
    .description('list jobs, newest first')
    .option('--status <statuses>', 'only these statuses, comma-separated (e.g. active,queued)')
    .option('--type <type>', 'only jobs of this job type')
    .option('--tag <tag>', 'only jobs with this worker tag')
    .option('--limit <n>', 'at most this many jobs (1-1000)', '100')
    .action(
      action((flags: ListFlags) =>
        withManager(flags, async ({ api }) => {
          const limit = parseIntOption('--limit', flags.limit ?? '100', 1, PAGE);
          const list = await api.listJobs({ status: flags.status, type: flags.type, tag: flags.tag, limit });
          if (flags.json) return printJson(list);
          if (list.jobs.length === 0) return void console.log('no jobs');
          console.log(formatJobTable(list.jobs));
          if (list.total > list.jobs.length)
            console.log(`(${list.jobs.length} of ${list.total} jobs; see more with --limit)`);
        }),
      ),
    );
}

/** `kiln jobs show` */
function registerShowCommand(jobs: Command): void {
  withManagerOptions(jobs.command('show').argument('<id>', 'job id or unique prefix'))
    .description('show one job')
    .action(
      action((id: string, flags: ManagerFlags) =>
        withManager(flags, async ({ api }) => {
          const job = await api.getJob(await resolveJobId(api, id));
          const { blocklist } = await api.getBlocklist(job.id);
          if (flags.json) printJson({ ...job, blocklist });
          else console.log(formatJob(job, blocklist));
        }),
      ),
    );
}

/** `kiln jobs unblock` */
function registerUnblockCommand(jobs: Command): void {
  withManagerOptions(
    jobs
      .command('unblock')
      .argument('<job>', 'job id or unique prefix')
      .argument('<worker>', 'worker name, id or unique id prefix'),
  )
    .description("take a worker off a job's blocklist, so it may run the job's tasks again")
    .option('--type <taskType>', 'only for this task type (default: every type it is blocklisted for)')
    .action(
      action((jobGiven: string, workerGiven: string, flags: ManagerFlags & { type?: string }) =>
        withManager(flags, async ({ api }) => {
          const jobId = await resolveJobId(api, jobGiven);
          const workerId = await resolveWorkerId(api, workerGiven);
          const { blocklist } = await api.removeFromBlocklist(jobId, workerId, flags.type);
          if (flags.json) return printJson({ blocklist });
          console.log(
            `worker ${workerGiven} is off the blocklist of job ${shortId(jobId)}${flags.type ? ` for ${flags.type} tasks` : ''}; ${blocklist.length} entr${blocklist.length === 1 ? 'y' : 'ies'} left`,
          );
        }),
      ),
    );
}

/** `kiln jobs pause|resume|cancel|requeue` */
function registerStatusCommands(jobs: Command): void {
  for (const { action: jobAction, description } of JOB_ACTIONS) {
    const command = withManagerOptions(jobs.command(jobAction).argument('<id>', 'job id or unique prefix'))
      .description(description)
      .option('--reason <text>', "why, kept with the job's activity");
    if (jobAction === 'pause')
      command.option('--now', 'stop running tasks at once (they run again from the start on resume)');
    command.action(
      action((id: string, flags: ManagerFlags & { reason?: string; now?: boolean }) =>
        withManager(flags, async ({ api }) => {
          const jobId = await resolveJobId(api, id);
          await api.setJobStatus(jobId, jobAction, { reason: flags.reason, now: flags.now });
          const job = await api.getJob(jobId);
          if (flags.json) printJson(job);
          else console.log(`job ${jobLabel(job)}: ${job.status}`);
        }),
      ),
    );
  }
}

/** `kiln jobs priority` */
function registerPriorityCommand(jobs: Command): void {
  withManagerOptions(
    jobs
      .command('priority')
      .argument('<id>', 'job id or unique prefix')
      .argument('<priority>', '0-100, higher runs first'),
  )
    .description("change a job's priority")
    .action(
      action((id: string, priorityText: string, flags: ManagerFlags) =>
        withManager(flags, async ({ api }) => {
          const priority = parseIntOption('priority', priorityText, 0, 100);
          const jobId = await resolveJobId(api, id);
          await api.setJobPriority(jobId, priority);
          const job = await api.getJob(jobId);
          if (flags.json) printJson(job);
          else console.log(`job ${jobLabel(job)}: priority ${job.priority}`);
        }),
      ),
    );
}

/** `kiln jobs delete` */
function registerDeleteCommand(jobs: Command): void {
  withManagerOptions(jobs.command('delete').argument('<id>', 'job id or unique prefix'))
    .description('delete a job with its tasks, logs and previews')
    .action(
      action((id: string, flags: ManagerFlags) =>
        withManager(flags, async ({ api }) => {
          const job = await api.getJob(await resolveJobId(api, id));
          await api.deleteJob(job.id);
          if (flags.json) printJson({ id: job.id, deleted: true });
          else console.log(`deleted job ${jobLabel(job)}`);
        }),
      ),
    );
}
