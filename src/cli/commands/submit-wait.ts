/**
 * `kiln submit --wait`: follows the submitted job until it ends, with its progress on stderr,
 * and turns how it ended into the exit status.
 */
import cliProgress from 'cli-progress';
import { ApiError, isRetryable, type ApiClient, type Job } from '../../client/index.js';
import { UserError } from '../../util/errors.js';
import { MINUTE, SECOND } from '../../util/time.js';
import { followChanges, withInterrupt } from '../client.js';
import { formatDuration, jobLabel, jobProgress, printJson, shortId } from '../format.js';

/** Exit statuses of `kiln submit --wait`, by the job's final status. */
const WAIT_EXIT_CODES = { completed: 0, failed: 1, canceled: 2 } as const;
/** `--wait` gave up: the manager stayed unreachable, or the job was deleted. */
export const WAIT_LOST_EXIT_CODE = 3;
/** Ctrl-C while waiting (128 + SIGINT), as shells report it. */
const INTERRUPTED_EXIT_CODE = 130;

/** How long --wait keeps trying an unreachable manager before it gives up. */
const LOST_CONTACT_LIMIT_MS = 5 * MINUTE;
const FINAL_STATUSES: ReadonlySet<string> = new Set(Object.keys(WAIT_EXIT_CODES));

/** The one-line outcome of a job that ended. */
function summarize(job: Job, elapsedMs: number): string {
  const line = `job ${jobLabel(job)} ${job.status} after ${formatDuration(elapsedMs)}: ${jobProgress(job)} tasks done`;
  const failed = job.taskCounts.failed;
  if (job.status === 'failed') return `${line}, ${failed} failed (see \`kiln tasks ls ${shortId(job.id)}\`)`;
  return line;
}

/** Shows a waiting job's progress: a bar on a terminal, plain lines otherwise. */
export interface ProgressDisplay {
  update(job: Job): void;
  /** A passing problem, e.g. the manager cannot be reached for now. */
  note(text: string): void;
  stop(): void;
}

/** A line no more often than this while only the counts change... */
const LINE_GAP_MS = 2 * SECOND;
/** ...and at least this often, so a log shows the wait is alive. */
const LINE_HEARTBEAT_MS = 30 * SECOND;

const describeState = (job: Job): string =>
  job.taskCounts.failed > 0 ? `${job.status}, ${job.taskCounts.failed} failed` : job.status;

function makeProgressDisplay(job: Job, stream: NodeJS.WriteStream = process.stderr): ProgressDisplay {
  return stream.isTTY ? barDisplay(job, stream) : lineDisplay(stream);
}

function barDisplay(first: Job, stream: NodeJS.WriteStream): ProgressDisplay {
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: `job ${shortId(first.id)} {bar} {value}/{total} tasks | {state}`,
      hideCursor: true,
      barsize: 30,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(first.taskCount, first.taskCounts.completed, { state: describeState(first) });
  let stopped = false;
  return {
    update(job) {
      if (bar.getTotal() !== job.taskCount) bar.setTotal(job.taskCount);
      bar.update(job.taskCounts.completed, { state: describeState(job) });
    },
    note(text) {
      bar.update({ state: text });
    },
    stop() {
      if (stopped) return;
      stopped = true;
      bar.stop();
    },
  };
}

function lineDisplay(stream: NodeJS.WritableStream): ProgressDisplay {
  let last = '';
  let lastStatus = '';
  let lastAt = 0;
  return {
    update(job) {
      if (FINAL_STATUSES.has(job.status)) return; // the summary says it
      const text = `job ${shortId(job.id)}: ${describeState(job)}, ${jobProgress(job)} tasks done`;
      const now = Date.now();
      const due = text !== last && (job.status !== lastStatus || now - lastAt >= LINE_GAP_MS);
      if (!due && now - lastAt < LINE_HEARTBEAT_MS) return;
      stream.write(`${text}\n`);
      [last, lastStatus, lastAt] = [text, job.status, now];
    },
    note(text) {
      stream.write(`${text}\n`);
    },
    stop() {},
  };
}

/**
 * Follows a job until it ends and returns it: fetched when the event stream says it changed
 * (polled every second when the stream drops). An unreachable manager is retried for a while;
 * `signal` (Ctrl-C) stops the wait.
 */
export async function followJob(
  api: ApiClient,
  jobId: string,
  display: ProgressDisplay,
  signal?: AbortSignal,
): Promise<Job> {
  let final: Job | undefined;
  let lostSince: number | undefined;
  const look = async (): Promise<boolean> => {
    let job: Job;
    try {
      job = await api.getJob(jobId, { signal });
    } catch (error) {
      if (signal?.aborted) return true;
      if (error instanceof ApiError && error.status === 404) {
        throw new UserError(`job ${shortId(jobId)} was deleted while waiting for it`, {
          exitCode: WAIT_LOST_EXIT_CODE,
          code: 'not_found',
        });
      }
      if (!isRetryable(error)) throw error;
      lostSince ??= Date.now();
      const lostFor = formatDuration(Date.now() - lostSince);
      if (Date.now() - lostSince > LOST_CONTACT_LIMIT_MS) {
        throw new UserError(
          `gave up waiting: no answer from the manager for ${lostFor}; the job may go on (check with \`kiln jobs show ${shortId(jobId)}\`)`,
          {
            exitCode: WAIT_LOST_EXIT_CODE,
            code: 'unreachable',
          },
        );
      }
      display.note(`cannot reach the manager; retrying (${lostFor})`);
      return false;
    }
    lostSince = undefined;
    display.update(job);
    if (!FINAL_STATUSES.has(job.status)) return false;
    final = job;
    return true;
  };
  await followChanges(
    api,
    { job: jobId, wakeOn: (event) => event.event === 'job' || event.event === 'task', signal },
    look,
  );
  if (!final)
    throw new UserError(`stopped waiting; the job goes on (see it with \`kiln jobs show ${shortId(jobId)}\`)`, {
      exitCode: INTERRUPTED_EXIT_CODE,
    });
  return final;
}

/**
 * Waits for a submitted job to end, showing its progress; prints the summary (with `json`, the
 * final job on stdout and the summary on stderr) and returns the exit status for how it ended.
 */
export async function waitForSubmittedJob(api: ApiClient, job: Job, json: boolean | undefined): Promise<number> {
  const started = Date.now();
  const display = makeProgressDisplay(job);
  let final: Job;
  try {
    final = await withInterrupt((signal) => followJob(api, job.id, display, signal));
  } finally {
    display.stop();
  }
  const summary = summarize(final, Date.now() - started);
  if (json) {
    printJson(final);
    process.stderr.write(`${summary}\n`);
  } else console.log(summary);
  return WAIT_EXIT_CODES[final.status as keyof typeof WAIT_EXIT_CODES];
}
