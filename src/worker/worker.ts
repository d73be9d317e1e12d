/**
 * The worker's loop: sign on, ask for a task (long poll), run it, repeat. The manager steers it
 * with 423 answers: `asleep` (stop asking, read /worker/state every few seconds until told to
 * wake), `offline` (sign off, exit 0), `restart` (sign off, exit 75 so a supervisor starts it
 * again). A manager that cannot be reached is retried with backoff (capped), and the worker signs
 * on again when it is back. Stopping (the signal) stops the running task, which goes back to the
 * queue, then the worker signs off.
 */
import type { Logger } from 'pino';
import type { ApiClient, TaskRequestResult } from '../client/api-client.js';
import { ApiError, isRetryable } from '../client/errors.js';
import type { SignOn, WorkerStateAnswer } from '../client/types.js';
import { UserError, toError } from '../util/errors.js';
import { SECOND } from '../util/time.js';
import { Backoff, realClock, type RetryClock } from './backoff.js';
import type { WorkerConfig } from './config.js';
import type { CredentialKeeper } from './credentials.js';
import type { ProcessGroupTracker } from './process-groups.js';
import { runTask, type TaskRunnerDeps } from './task-runner.js';
import type { IoGate } from '../io/index.js';
import type { UpdateQueue } from './update-queue.js';

/** Exit code asking the service manager to start the worker again (EX_TEMPFAIL). */
export const EXIT_RESTART = 75;
export const EXIT_OK = 0;

type Mode = 'awake' | 'asleep' | 'offline' | 'restart';

export interface WorkerDeps {
  client: ApiClient;
  credentials: CredentialKeeper;
  queue: UpdateQueue;
  config: WorkerConfig;
  logger: Logger;
  softwareVersion: string;
  processGroups: ProcessGroupTracker;
  /** What retries and polls wait on (tests hurry it and count the waits). */
  clock?: RetryClock | undefined;
  /** I/O priority: what the tasks' heavy I/O waits at (none: never paused). */
  ioGate?: IoGate | undefined;
}

/** The manager refuses this worker until it signs on again (it was put in `error` or `offline`). */
const mustSignOn = (error: unknown): boolean =>
  error instanceof ApiError && error.status === 409 && error.code === 'sign_on_required';

/** What the manager's requested status means for the loop; `current` when it asks for nothing. */
function modeFor(state: WorkerStateAnswer, current: 'awake' | 'asleep'): Mode {
  switch (state.statusRequested) {
    case 'asleep':
    case 'offline':
    case 'restart':
      return state.statusRequested;
    case 'awake':
      return 'awake';
    default:
      return current;
  }
}

/** What the worker tells the manager about itself at sign-on. */
export function signOnBody(
  config: Pick<WorkerConfig, 'name' | 'platform' | 'taskTypes' | 'tags'>,
  softwareVersion: string,
): SignOn {
  return {
    name: config.name,
    platform: config.platform,
    supportedTaskTypes: [...config.taskTypes],
    tags: [...config.tags],
    softwareVersion,
  };
}

/**
 * Retries `fn` while the manager cannot be reached (or answers 5xx), with backoff up to
 * `maxDelayMs`. Undefined when the signal stopped it first; other errors are thrown.
 */
export async function untilReachable<T>(
  what: string,
  fn: () => Promise<T>,
  options: { signal: AbortSignal; logger: Logger; maxDelayMs: number; clock?: RetryClock | undefined },
): Promise<T | undefined> {
  const backoff = new Backoff(250, options.maxDelayMs, options.clock);
  let warned = false;
  while (!options.signal.aborted) {
    try {
      const result = await fn();
      if (warned) options.logger.info(`manager reachable again (${what})`);
      return result;
    } catch (error) {
      if (options.signal.aborted) return undefined;
      if (!isRetryable(error)) throw error;
      if (!warned)
        options.logger.warn({ reason: toError(error).message }, `cannot reach the manager to ${what}; retrying`);
      warned = true;
      await backoff.wait(options.signal, error instanceof ApiError ? error.retryAfterMs : undefined);
    }
  }
  return undefined;
}

export class Worker {
  readonly #deps: WorkerDeps;
  readonly #log: Logger;
  readonly #clock: RetryClock;

  constructor(deps: WorkerDeps) {
    this.#deps = deps;
    this.#log = deps.logger;
    this.#clock = deps.clock ?? realClock;
  }

  /** Runs until told to stop; resolves with the exit code (0, or 75 for restart). */
  async run(signal: AbortSignal): Promise<number> {
    try {
      let mode: Mode = 'awake';
      const answer = await this.#signOn(signal);
      if (answer) mode = modeFor(answer, 'awake');
      while (!signal.aborted) {
        if (mode === 'offline') return await this.#shutdown(EXIT_OK, 'the manager asked this worker to shut down');
        if (mode === 'restart') return await this.#shutdown(EXIT_RESTART, 'the manager asked this worker to restart');
        mode = mode === 'asleep' ? await this.#asleep(signal) : await this.#awake(signal);
      }
      return await this.#shutdown(EXIT_OK, `stopping: ${describeReason(signal.reason)}`);
    } catch (error) {
      await this.#deps.queue.close().catch(() => undefined);
      throw error;
    }
  }

  #call<T>(fn: () => Promise<T>): Promise<T> {
    return this.#deps.credentials.call(fn);
  }

  async #signOn(signal: AbortSignal): Promise<WorkerStateAnswer | undefined> {
    const answer = await untilReachable(
      'sign on',
      () =>
        this.#call(() =>
          this.#deps.client.signOn(signOnBody(this.#deps.config, this.#deps.softwareVersion), { signal }),
        ),
      {
        signal,
        logger: this.#log,
        maxDelayMs: this.#deps.config.reconnectMaxDelayMs,
        clock: this.#clock,
      },
    );
    if (answer)
      this.#log.info({ workerId: this.#deps.client.workerId, statusRequested: answer.statusRequested }, 'signed on');
    return answer;
  }

  async #awake(signal: AbortSignal): Promise<Mode> {
    const { client, queue, config } = this.#deps;
    const backoff = new Backoff(250, config.reconnectMaxDelayMs, this.#clock);
    let lost = false;
    let outages = queue.outages;
    while (!signal.aborted) {
      // Task updates that could not be sent also mean the manager was away.
      if (queue.outages !== outages) lost = true;
      if (lost) {
        const answer = await this.#signOn(signal);
        if (!answer) break;
        lost = false;
        outages = queue.outages;
        const mode = modeFor(answer, 'awake');
        if (mode !== 'awake') return mode;
      }
      // Earlier tasks' updates first, so the manager knows how they ended before giving more work.
      if (queue.backlog > 0 && !(await queue.drain({ timeoutMs: 5 * SECOND, signal }))) {
        if (!queue.online) lost = true;
        continue;
      }
      let result: TaskRequestResult;
      try {
        result = await this.#call(() => client.requestTask({ waitMs: config.taskWaitMs, signal }));
        backoff.reset();
      } catch (error) {
        if (signal.aborted) break;
        if (error instanceof UserError) throw error;
        if (mustSignOn(error)) {
          // The manager took this worker off the farm (it timed out): join it again first.
          this.#log.warn({ reason: toError(error).message }, 'the manager asks this worker to sign on again');
          lost = true;
          continue;
        }
        if (isRetryable(error)) {
          if (!lost) this.#log.warn({ reason: toError(error).message }, 'lost the manager; reconnecting');
          lost = true;
          await backoff.wait(signal, error instanceof ApiError ? error.retryAfterMs : undefined);
        } else {
          this.#log.error({ err: toError(error) }, 'asking for a task failed');
          await backoff.wait(signal);
        }
        continue;
      }
      if (result.kind === 'none') continue;
      if (result.kind === 'status-change') {
        const mode = modeFor(result.state, 'awake');
        if (mode !== 'awake') return mode;
        await this.#clock.pause(1 * SECOND, signal);
        continue;
      }
      const outcome = await runTask(result.task, this.#runnerDeps(), signal);
      this.#log.info({ taskId: result.task.id, ...outcome }, 'task ended');
    }
    return 'awake';
  }

  async #asleep(signal: AbortSignal): Promise<Mode> {
    const { client, config } = this.#deps;
    this.#log.info('asleep: not asking for tasks until the manager wakes this worker');
    try {
      await this.#call(() => client.acknowledgeState('asleep', { signal }));
    } catch (error) {
      if (error instanceof UserError) throw error;
      // The manager learns it on the next poll anyway.
      this.#log.debug({ err: toError(error) }, 'could not tell the manager this worker is asleep');
    }
    while (await this.#clock.pause(config.sleepPollMs, signal)) {
      let state: WorkerStateAnswer;
      try {
        state = await this.#call(() => client.workerState({ signal }));
      } catch (error) {
        if (signal.aborted) break;
        if (error instanceof UserError) throw error;
        if (mustSignOn(error)) {
          this.#log.warn({ reason: toError(error).message }, 'the manager asks this worker to sign on again');
          const answer = await this.#signOn(signal);
          // The manager says whether to sleep: a task request of a sleeping worker answers 423 asleep.
          return answer ? modeFor(answer, 'awake') : 'asleep';
        }
        this.#log.debug({ err: toError(error) }, 'checking the requested status failed');
        continue;
      }
      const mode = modeFor(state, 'asleep');
      if (mode === 'asleep') continue;
      if (mode === 'awake') {
        this.#log.info('woken up by the manager');
        // Signing on again is the acknowledgement: it sees the wake request (so a sleep schedule
        // does not put the worker straight back to sleep) and clears it.
        const answer = await this.#signOn(signal);
        return answer ? modeFor(answer, 'awake') : 'awake';
      }
      return mode;
    }
    return 'asleep';
  }

  #runnerDeps(): TaskRunnerDeps {
    const { client, queue, config, logger } = this.#deps;
    return {
      queue,
      mayIRun: (taskId, signal) => this.#call(() => client.mayIRun(taskId, { signal })),
      uploadPreview: (taskId, image, contentType, signal) =>
        client.uploadPreview(taskId, image, contentType, { signal }),
      logger,
      workerName: config.name,
      tools: { ffmpeg: config.ffmpeg, blender: config.blender },
      killGraceMs: config.killGraceMs,
      processGroups: this.#deps.processGroups,
      mayIRunIntervalMs: config.mayIRunIntervalMs,
      ioGate: this.#deps.ioGate,
    };
  }

  /** Delivers what it can of the queued updates, signs off, and closes the queue (the rest waits on disk). */
  async #shutdown(code: number, why: string): Promise<number> {
    const { client, queue } = this.#deps;
    this.#log.info({ exitCode: code }, why);
    const delivered = await queue.drain({ timeoutMs: 5 * SECOND });
    if (!delivered)
      this.#log.warn(
        { updates: queue.backlog },
        'some task updates could not be delivered; they stay queued on disk for the next start',
      );
    try {
      await client.signOff({ signal: AbortSignal.timeout(3 * SECOND) });
      this.#log.info('signed off');
    } catch (error) {
      this.#log.warn({ reason: toError(error).message }, 'could not sign off');
    }
    await queue.close();
    return code;
  }
}

function describeReason(reason: unknown): string {
  return reason instanceof Error ? reason.message : reason === undefined ? 'stopped' : String(reason);
}
