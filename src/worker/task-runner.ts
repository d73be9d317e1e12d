/**
 * Running one task: its commands in order, status `active` at the start and `completed` or
 * `failed` at the end (with the failing command's message in the log), progress in between, and
 * a "may I keep running?" every couple of seconds. When the manager says no, or gives the task to
 * another worker (409), the running command is stopped and the task simply dropped: the manager
 * already decided what happens to it. When the worker shuts down, the task goes back as `queued`.
 */
import type { Logger } from 'pino';
import { ApiError } from '../client/errors.js';
import type { AssignedTask, MayKeepRunning } from '../client/types.js';
import { toError } from '../util/errors.js';
import { CommandAbortedError, CommandError, checkCommand, runCommand, type CommandContext } from './commands/index.js';
import type { IoGate } from '../io/index.js';
import { TaskIoPause } from './io-pause.js';
import { PreviewUploader, type UploadPreview } from './previews.js';
import type { UpdateQueue } from './update-queue.js';

export type TaskOutcome =
  | { result: 'completed' }
  | { result: 'failed'; message: string }
  /** The manager said stop, or the task is another worker's now: dropped without a status. */
  | { result: 'stopped'; reason: string }
  /** The worker is shutting down: the task was sent back as queued. */
  | { result: 'requeued' };

export interface TaskRunnerDeps {
  queue: Pick<UpdateQueue, 'send' | 'log' | 'progress' | 'activity' | 'flush' | 'watchDrop' | 'beginTask'>;
  mayIRun: (taskId: string, signal: AbortSignal) => Promise<MayKeepRunning>;
  uploadPreview: (taskId: string, ...rest: Parameters<UploadPreview>) => Promise<void>;
  logger: Logger;
  workerName: string;
  tools: CommandContext['tools'];
  killGraceMs: number;
  processGroups: CommandContext['processGroups'];
  mayIRunIntervalMs: number;
  /** The worker's I/O priority gate; none: never paused. */
  ioGate?: IoGate | undefined;
}

class StopRequest extends Error {
  constructor(
    readonly kind: 'manager' | 'dropped' | 'shutdown',
    message: string,
  ) {
    super(message);
  }
}

/** Runs the task to its end; `shutdown` aborts when the worker is stopping. */
export async function runTask(task: AssignedTask, deps: TaskRunnerDeps, shutdown: AbortSignal): Promise<TaskOutcome> {
  const { queue, logger } = deps;
  const log = logger.child({ taskId: task.id, jobId: task.jobId });
  const controller = new AbortController();
  const stop = (request: StopRequest): void => {
    if (!controller.signal.aborted) controller.abort(request);
  };
  queue.beginTask(task.id);
  const unwatch = queue.watchDrop(task.id, () =>
    stop(new StopRequest('dropped', 'the manager gave this task to another worker')),
  );
  const onShutdown = (): void => stop(new StopRequest('shutdown', 'the worker is shutting down'));
  if (shutdown.aborted) onShutdown();
  shutdown.addEventListener('abort', onShutdown, { once: true });

  const previews = new PreviewUploader(
    (image, contentType, signal) => deps.uploadPreview(task.id, image, contentType, signal),
    log,
  );
  const started = Date.now();
  await announceStart(task, deps, log);
  const poller = pollMayIRun(task.id, deps, controller, stop);
  let ran: CommandsRun;
  try {
    ran = await runCommands(task, deps, controller.signal, previews, log);
  } finally {
    poller.stop();
    shutdown.removeEventListener('abort', onShutdown);
    await previews.close();
    unwatch();
  }
  return reportOutcome(task, deps, log, ran, controller.signal, started);
}

/** How far the commands got: a failure message, or none when they ran out or were stopped. */
interface CommandsRun {
  failure: string | undefined;
  completed: number;
}

/** Logs the start and tells the manager the task is active. */
async function announceStart(task: AssignedTask, deps: TaskRunnerDeps, log: Logger): Promise<void> {
  const total = task.commands.length;
  log.info({ task: task.name, job: task.jobName, commands: total }, 'task started');
  await deps.queue.send(task.id, {
    status: 'active',
    progress: 0,
    activity: 'starting',
    log: [
      `task "${task.name}" of job "${task.jobName}" started on worker ${deps.workerName}: ${total} command${total === 1 ? '' : 's'}`,
    ],
  });
}

/** The commands in order, until one fails or `signal` stops them. */
async function runCommands(
  task: AssignedTask,
  deps: TaskRunnerDeps,
  signal: AbortSignal,
  previews: PreviewUploader,
  log: Logger,
): Promise<CommandsRun> {
  const { queue } = deps;
  const io = new TaskIoPause(deps.ioGate, {
    activity: (text) => queue.activity(task.id, text),
    log: (line) => queue.log(task.id, line),
  });
  const run = await runEach(task, deps, signal, previews, io);
  const summary = io.summary();
  if (summary) queue.log(task.id, summary);
  if (run.crash) log.error({ err: run.crash }, 'command crashed');
  return run;
}

/** The commands in order, each with its context; stops at a failure or at `signal`. */
async function runEach(
  task: AssignedTask,
  deps: TaskRunnerDeps,
  signal: AbortSignal,
  previews: PreviewUploader,
  io: TaskIoPause,
): Promise<CommandsRun & { crash?: Error }> {
  const { queue } = deps;
  const total = task.commands.length;
  let completed = 0;
  for (const [index, raw] of task.commands.entries()) {
    if (signal.aborted) break;
    const name = typeof raw.name === 'string' ? raw.name : '?';
    queue.log(task.id, `--- command ${index + 1}/${total}: ${name}`);
    const context: CommandContext = {
      signal,
      log: (line) => queue.log(task.id, line),
      progress: (fraction, activity) => {
        if (activity !== undefined) io.noteActivity(activity);
        queue.progress(task.id, (index + Math.min(1, Math.max(0, fraction))) / Math.max(1, total), activity);
      },
      activity: (text) => {
        io.noteActivity(text);
        queue.activity(task.id, text);
      },
      preview: (path) => previews.offer(path),
      tools: deps.tools,
      killGraceMs: deps.killGraceMs,
      processGroups: deps.processGroups,
      io,
    };
    try {
      await runCommand(checkCommand(raw), context);
      completed++;
    } catch (error) {
      if (signal.aborted || error instanceof CommandAbortedError) break;
      const failure =
        error instanceof CommandError
          ? `${name}: ${error.message}`
          : `${name}: unexpected error: ${toError(error).message}`;
      return { failure, completed, ...(error instanceof CommandError ? {} : { crash: toError(error) }) };
    }
  }
  return { failure: undefined, completed };
}

/** Tells the manager how the task ended (completed, failed, or back to the queue on shutdown). */
async function reportOutcome(
  task: AssignedTask,
  deps: TaskRunnerDeps,
  log: Logger,
  { failure, completed }: CommandsRun,
  signal: AbortSignal,
  started: number,
): Promise<TaskOutcome> {
  const { queue } = deps;
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (failure === undefined && completed === task.commands.length) {
    log.info({ seconds }, 'task completed');
    await queue.send(task.id, {
      status: 'completed',
      progress: 1,
      activity: 'completed',
      log: [`task completed in ${seconds} s`],
    });
    return { result: 'completed' };
  }
  if (failure !== undefined) {
    log.warn({ reason: failure }, 'task failed');
    await queue.send(task.id, {
      status: 'failed',
      activity: `failed: ${failure}`,
      log: [`command ${failure}`, `task failed after ${seconds} s`],
    });
    return { result: 'failed', message: failure };
  }
  const reason = signal.reason instanceof StopRequest ? signal.reason : new StopRequest('manager', 'stopped');
  if (reason.kind === 'shutdown') {
    log.info('task interrupted by shutdown; sending it back to the queue');
    await queue.send(task.id, {
      status: 'queued',
      activity: 'requeued: the worker shut down',
      log: [`stopped after ${seconds} s: ${reason.message}; the task goes back to the queue`],
    });
    return { result: 'requeued' };
  }
  // Nothing goes to the manager: it has already taken the task away (canceled, requeued or reassigned).
  log.info({ reason: reason.message, seconds }, 'task stopped');
  return { result: 'stopped', reason: reason.message };
}

/** Asks every interval whether the task may keep running; stops it on "no" or when it is not ours. */
function pollMayIRun(
  taskId: string,
  deps: TaskRunnerDeps,
  controller: AbortController,
  stop: (request: StopRequest) => void,
): { stop(): void } {
  const pollAbort = new AbortController();
  const signal = AbortSignal.any([pollAbort.signal, controller.signal]);
  let timer: NodeJS.Timeout | undefined;
  const tick = async (): Promise<void> => {
    try {
      const answer = await deps.mayIRun(taskId, signal);
      if (!answer.mayKeepRunning)
        stop(new StopRequest('manager', `the manager stopped this task${answer.reason ? `: ${answer.reason}` : ''}`));
    } catch (error) {
      if (error instanceof ApiError && (error.status === 409 || error.status === 404)) {
        stop(new StopRequest('dropped', `the task is no longer this worker's (${error.message})`));
      } else if (!signal.aborted) {
        // The manager being away is no reason to stop working.
        deps.logger.debug({ taskId, err: toError(error) }, 'may-i-run check failed');
      }
    }
    if (!signal.aborted) timer = setTimeout(() => void tick(), deps.mayIRunIntervalMs);
  };
  timer = setTimeout(() => void tick(), deps.mayIRunIntervalMs);
  return {
    stop() {
      clearTimeout(timer);
      pollAbort.abort();
    },
  };
}
