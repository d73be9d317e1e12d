import type { Command } from 'commander';
import { ApiError, type ApiClient, type Job, type JobTypeDetail, type SubmitJob } from '../../client/index.js';
import { UserError } from '../../util/errors.js';
import { action } from '../run.js';
import { withManager, withManagerOptions, type ManagerFlags } from '../client.js';
import { describeStorage, sendInput } from '../storage/submit-input.js';
import { plural, printJson } from '../format.js';
import { parseIntOption } from './jobs.js';
import { WAIT_LOST_EXIT_CODE, waitForSubmittedJob } from './submit-wait.js';

/**
 * What the user asked for, parsed and checked; everything `buildSubmission` needs. Shared
 * storage (`--input PATH --deps PATH... --storage MODE`) adds its fields here, prepares the files
 * after the job type is fetched (the job name is already settled), and hands the result to
 * `buildSubmission` as `storage`.
 */
export interface SubmitOptions {
  type: string;
  /** `--name`, else `<type>-<yyyymmdd-hhmmss>`. */
  name: string;
  settings: Record<string, unknown>;
  frames?: string | undefined;
  chunkSize?: number | undefined;
  priority?: number | undefined;
  tag?: string | undefined;
}

export interface SubmitFlags extends ManagerFlags {
  set?: string[];
  frames?: string;
  chunk?: string;
  priority?: string;
  tag?: string;
  name?: string;
  wait?: boolean;
  input?: string;
  deps?: string[];
  storage?: string;
}

/** `key=value`: the value as JSON when it parses as JSON (numbers, booleans, arrays...), else as text. */
export function parseSetting(text: string): [string, unknown] {
  const equals = text.indexOf('=');
  if (equals === -1) throw new UserError(`--set takes key=value, got "${text}"`, { field: 'set' });
  const key = text.slice(0, equals).trim();
  if (!/^[A-Za-z_][\w-]*$/.test(key)) {
    throw new UserError(
      `--set ${JSON.stringify(text)}: "${key}" is not a setting name (letters, digits, "_" and "-")`,
      { field: 'set' },
    );
  }
  const raw = text.slice(equals + 1);
  try {
    return [key, JSON.parse(raw)];
  } catch {
    return [key, raw];
  }
}

/** Checks the command line's strings and turns them into SubmitOptions. */
export function parseSubmitOptions(type: string, flags: SubmitFlags, now = new Date()): SubmitOptions {
  if (!type.trim())
    throw new UserError('give a job type, e.g. `kiln submit echo-sleep` (see the list with `kiln job-types`)', {
      field: 'type',
    });
  const name = flags.name?.trim();
  if (flags.name !== undefined && !name) throw new UserError('--name must not be empty', { field: 'name' });
  if (flags.tag !== undefined && !flags.tag.trim()) throw new UserError('--tag must not be empty', { field: 'tag' });
  // Without --input the dependencies would go nowhere: refused before anything is sent.
  if (flags.deps?.length && !flags.input) throw new UserError('--deps needs --input', { field: 'deps' });
  return {
    type: type.trim(),
    name: name ?? defaultJobName(type.trim(), now),
    settings: Object.fromEntries((flags.set ?? []).map(parseSetting)),
    frames: flags.frames,
    chunkSize: flags.chunk === undefined ? undefined : parseIntOption('--chunk', flags.chunk, 1, 100_000),
    priority: flags.priority === undefined ? undefined : parseIntOption('--priority', flags.priority, 0, 100),
    tag: flags.tag?.trim(),
  };
}

/** `render-20240131-174502`, in local time. */
export function defaultJobName(type: string, now = new Date()): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  const date = `${now.getFullYear()}${two(now.getMonth() + 1)}${two(now.getDate())}`;
  const time = `${two(now.getHours())}${two(now.getMinutes())}${two(now.getSeconds())}`;
  return `${type}-${date}-${time}`;
}

/**
 * The request body of POST /jobs, for the job type as the manager described it (its etag
 * included); `storage` is what shared storage prepared for the job's files, when it has any.
 */
export function buildSubmission(
  options: SubmitOptions,
  jobType: Pick<JobTypeDetail, 'name' | 'etag'>,
  storage?: SubmitJob['storage'],
): SubmitJob {
  const body: SubmitJob = {
    name: options.name,
    type: jobType.name,
    typeEtag: jobType.etag,
    settings: options.settings,
  };
  if (options.frames !== undefined) body.frames = options.frames;
  if (options.chunkSize !== undefined) body.chunkSize = options.chunkSize;
  if (options.priority !== undefined) body.priority = options.priority;
  if (options.tag !== undefined) body.tag = options.tag;
  if (storage !== undefined) body.storage = storage;
  return body;
}

/** The job type, or a UserError that lists the known ones. */
export async function fetchJobType(api: ApiClient, name: string): Promise<JobTypeDetail> {
  try {
    return await api.getJobType(name);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 404 || error.code === 'no_such_endpoint') throw error;
    const known = (await api.listJobTypes()).jobTypes.map((type) => type.name).sort();
    throw new UserError(`unknown job type "${name}"; known types: ${known.join(', ') || 'none'}`, {
      field: 'type',
      code: 'unknown_job_type',
    });
  }
}

const OPTION_OF_FIELD: Readonly<Record<string, string>> = {
  frames: '--frames',
  chunkSize: '--chunk',
  priority: '--priority',
  tag: '--tag',
  name: '--name',
  type: 'TYPE',
};

/** Which command-line option an API field of the submission came from. */
function submitFieldHint(field: string): string | undefined {
  if (field === 'typeEtag') return 'the job type changed while submitting; run the command again';
  if (field.startsWith('settings.'))
    return `field ${field}, from --set ${field.slice('settings.'.length).split('.')[0]}`;
  const option = OPTION_OF_FIELD[field];
  return option ? `field ${field}, from ${option}` : undefined;
}

const describeSubmitted = (job: Job): string =>
  `submitted job ${job.id} ${JSON.stringify(job.name)} (${job.type}, ${plural(job.taskCount, 'task')}, priority ${job.priority})`;

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function registerSubmitCommand(program: Command): void {
  withManagerOptions(
    program.command('submit').argument('<type>', 'job type, e.g. render, transcode, command, echo-sleep'),
  )
    .description('submit a job to the farm')
    .option(
      '--set <key=value>',
      'a job setting; repeat for more. The value is read as JSON when it is JSON (5, true, [1,2], "text"), else as text',
      collect,
    )
    .option('--frames <range>', 'frames to process, e.g. 1-250 or 1-10,20,30-40')
    .option('--chunk <n>', 'frames per task (1-100000)')
    .option('--priority <n>', 'priority 0-100, higher runs first (default 50)')
    .option('--tag <tag>', "only workers with this tag take the job's tasks")
    .option('--name <name>', 'job name (default: <type>-<yyyymmdd-hhmmss>)')
    .option('--wait', 'follow the job until it ends, with a progress bar on stderr; the exit status tells how it ended')
    .option(
      '--input <path>',
      "the job's input file or folder; relative settings (e.g. blendFile) are read from where it lands on shared storage",
    )
    .option('--deps <path...>', 'more files or folders the input needs (textures, caches); copied or uploaded with it')
    .option(
      '--storage <mode>',
      'auto | direct (use it in place on shared storage) | copy (a copy per job) | shaman (upload only what is new)',
      'auto',
    )
    .addHelpText(
      'after',
      [
        '',
        'Exit status: 0 when the job was submitted; with --wait, by how the job ended:',
        '  0  completed',
        '  1  failed (1 is also every error, e.g. a refused submission; the message says which)',
        '  2  canceled',
        `  ${WAIT_LOST_EXIT_CODE}  lost track of the job: the manager stayed unreachable, or the job was deleted`,
        '  130  interrupted (Ctrl-C); the job goes on',
        'With --json, stdout gets the job as JSON (the final job with --wait).',
      ].join('\n'),
    )
    .action(
      action((type: string, flags: SubmitFlags) =>
        withManager(
          flags,
          async (client) => {
            const { api } = client;
            const options = parseSubmitOptions(type, flags);
            const jobType = await fetchJobType(api, options.type);
            const storage = flags.input ? await sendInput(flags, options.name, client) : undefined;
            const job = await api.submitJob(buildSubmission(options, jobType, storage as SubmitJob['storage']));
            if (storage && !flags.json) console.log(describeStorage(storage));
            if (!flags.wait) {
              if (flags.json) printJson(job);
              else console.log(describeSubmitted(job));
              return 0;
            }
            if (!flags.json) console.log(describeSubmitted(job));
            return waitForSubmittedJob(api, job, flags.json);
          },
          submitFieldHint,
        ),
      ),
    );
}
