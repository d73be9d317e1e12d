/**
 * `runWorker`: what `kiln worker` calls. Wires the parts (configuration, logger, API client,
 * credentials, update queue, loop) and handles SIGTERM/SIGINT: the running task goes back to the
 * queue, the worker signs off, and the returned exit code is 0 (75 when the manager asked for a
 * restart). Set process.exitCode from it.
 *
 * One worker per home: a second one refuses to start (UserError) while the first lives. Before it
 * signs on, a worker ends the task programs an earlier run on this home left running (a worker
 * killed outright cannot stop them), so a task it gets back never runs twice at once.
 */
import pino, { type Logger } from 'pino';
import { ApiClient } from '../client/api-client.js';
import { resolveHome } from '../config/home.js';
import { KILN_VERSION } from '../util/version.js';
import { loadWorkerConfig, queueDirectory, readFarmSecret, type WorkerConfig } from './config.js';
import { CredentialKeeper } from './credentials.js';
import { acquireHomeLock } from './home-lock.js';
import { ProcessGroupRecords, endLeftoverProcessGroups } from './process-groups.js';
import { IoPriorityGate, gateTargets, ioSettings, type IoGate } from '../io/index.js';
import type { RetryClock } from './backoff.js';
import { UpdateQueue } from './update-queue.js';
import { EXIT_OK, Worker, signOnBody, untilReachable } from './worker.js';
import { findWorkerManager, watchDiscoveredManager } from './manager-finder.js';
import { startWorkerAnnouncement } from './announce.js';
import type { ResolvedManager } from '../discovery/resolve-manager.js';

export interface RunWorkerOptions {
  /** Kiln home (default: $KILN_HOME, else ~/.kiln). */
  home?: string | undefined;
  /** The manager's URL, e.g. http://farm:7780 (else worker.yaml `manager`). */
  managerUrl?: string | undefined;
  /** The worker's name (default: the host name). */
  name?: string | undefined;
  tags?: string[] | undefined;
  /** The farm secret, needed only for the first registration. */
  secret?: string | undefined;
  taskTypes?: string[] | undefined;
  logLevel?: WorkerConfig['logLevel'] | undefined;
  /** Instead of a pino logger on stderr. */
  logger?: Logger | undefined;
  /** Stops the worker like SIGTERM does. */
  signal?: AbortSignal | undefined;
  /** Handle SIGTERM and SIGINT (default true). */
  handleSignals?: boolean | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  /** What retries and polls wait on (tests hurry it and count the waits). */
  clock?: RetryClock | undefined;
}

export async function runWorker(options: RunWorkerOptions = {}): Promise<number> {
  const home = resolveHome(options.home);
  const config = loadWorkerConfig(
    home,
    {
      manager: options.managerUrl,
      name: options.name,
      tags: options.tags,
      taskTypes: options.taskTypes,
      secret: options.secret,
      logLevel: options.logLevel,
    },
    options.env ?? process.env,
  );
  // Before anything else (even logging), so a refused second worker prints one line only.
  const lock = acquireHomeLock(home);
  const logger =
    options.logger ??
    pino(
      { level: config.logLevel, base: { service: 'kiln-worker', worker: config.name } },
      pino.destination({ dest: 2, sync: true }),
    );
  const processGroups = new ProcessGroupRecords(home, logger);
  // I/O priority: this host's listener and the storage hosts' (network.cfg [IO Priority]).
  const ioGate = new IoPriorityGate({ targets: gateTargets(ioSettings(home)), program: `kiln worker ${config.name}` });
  void ioGate.start();
  // A worker leaving without its clean-up (an uncaught error, a second signal) still takes its
  // programs and its lock along. 'exit' handlers run synchronously.
  const onExit = (): void => {
    processGroups.killAllNow();
    lock.release();
  };
  process.on('exit', onExit);
  const stopAnnouncing = await announceWorker(home, config.name, options.env ?? process.env, logger);
  try {
    return await runLockedWorker({ home, config, logger, lockPath: lock.path, processGroups, ioGate }, options);
  } finally {
    ioGate.close();
    await stopAnnouncing();
    process.off('exit', onExit);
    lock.release();
  }
}

/** Self-discovery for this worker; a network that refuses it costs the map an entry, not the worker. */
async function announceWorker(
  home: string,
  name: string,
  env: NodeJS.ProcessEnv,
  logger: Logger,
): Promise<() => Promise<void>> {
  try {
    return (await startWorkerAnnouncement({ home, name, env, log: logger })) ?? (async () => undefined);
  } catch (error) {
    logger.warn({ err: error }, 'self-discovery could not start; the worker runs without announcing itself');
    return async () => undefined;
  }
}

interface LockedHome {
  home: string;
  config: WorkerConfig;
  logger: Logger;
  lockPath: string;
  processGroups: ProcessGroupRecords;
  ioGate: IoGate;
}

async function runLockedWorker(
  { home, config, logger, lockPath, processGroups, ioGate }: LockedHome,
  options: RunWorkerOptions,
): Promise<number> {
  const controller = new AbortController();
  const stop = (reason: Error): void => {
    if (!controller.signal.aborted) controller.abort(reason);
  };
  const removeHandlers = options.handleSignals === false ? () => undefined : installSignalHandlers(logger, stop);
  const onOuterAbort = (): void => stop(new Error('stop requested'));
  if (options.signal?.aborted) onOuterAbort();
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });

  try {
    const finder = {
      home,
      configured: config.manager,
      env: options.env,
      logger,
      maxDelayMs: config.reconnectMaxDelayMs,
      clock: options.clock,
    };
    let manager = await findWorkerManager(finder, controller.signal);
    while (manager) {
      // One run per manager: a discovered manager that moves ends this run and starts the next.
      const run = new AbortController();
      const endRun = (): void => run.abort(controller.signal.reason);
      controller.signal.addEventListener('abort', endRun, { once: true });
      let moved: ResolvedManager | undefined;
      const stopWatch =
        manager.source === 'flag' || manager.source === 'config'
          ? () => undefined
          : watchDiscoveredManager(manager.url, finder, (next) => {
              moved = next;
              logger.warn({ manager: next.url, source: next.source }, 'moving to the manager found now');
              run.abort(new Error(`the manager moved to ${next.url}`));
            });
      try {
        const code = await runWithManager(
          manager.url,
          run.signal,
          { home, config, logger, lockPath, processGroups, ioGate },
          options,
        );
        if (!moved || controller.signal.aborted) return code;
      } finally {
        stopWatch();
        controller.signal.removeEventListener('abort', endRun);
      }
      manager = moved;
    }
    return EXIT_OK;
  } finally {
    removeHandlers();
    options.signal?.removeEventListener('abort', onOuterAbort);
  }
}

/** Registers (if needed), signs on and works for the manager at `managerUrl` until `signal`. */
async function runWithManager(
  managerUrl: string,
  signal: AbortSignal,
  { home, config, logger, lockPath, processGroups, ioGate }: LockedHome,
  options: RunWorkerOptions,
): Promise<number> {
  const version = KILN_VERSION;
  const client = new ApiClient({
    baseUrl: managerUrl,
    observer: {
      // With one manager the loop's own "lost the manager" says it; a manager passed over again is news no more.
      passedOver: ({ manager, reason, next, again }) => {
        if (next !== undefined)
          logger[again ? 'debug' : 'warn'](
            { manager, reason, next },
            'a manager did not answer; going on with the next',
          );
      },
    },
  });
  const credentials = new CredentialKeeper({
    home,
    client,
    registration: () => ({
      name: config.name,
      platform: config.platform,
      supportedTaskTypes: [...config.taskTypes],
      tags: [...config.tags],
    }),
    secret: () => readFarmSecret(config),
    logger,
    afterReRegister: () => client.signOn(signOnBody(config, version)),
  });
  logger.info(
    { manager: client.baseUrl, taskTypes: config.taskTypes, tags: config.tags, version, lock: lockPath },
    'worker starting',
  );
  await endLeftoverProcessGroups(home, logger, { termGraceMs: config.killGraceMs });
  const identity = await untilReachable('register', () => credentials.ensure(), {
    signal,
    logger,
    maxDelayMs: config.reconnectMaxDelayMs,
    clock: options.clock,
  });
  if (!identity) return EXIT_OK;

  const queue = await UpdateQueue.open({
    dir: queueDirectory(home, config),
    send: (taskId, update, signal) => credentials.call(() => client.updateTask(taskId, update, { signal })),
    logger,
    flushIntervalMs: config.updateIntervalMs,
    batchLines: config.updateBatchLines,
    retryMaxDelayMs: config.reconnectMaxDelayMs,
    clock: options.clock,
  });
  const worker = new Worker({
    client,
    credentials,
    queue,
    config,
    logger,
    softwareVersion: version,
    processGroups,
    clock: options.clock,
    ioGate,
  });
  return await worker.run(signal);
}

/** First SIGTERM/SIGINT: a clean stop. A second one: leave at once (queued updates stay on disk). */
function installSignalHandlers(logger: Logger, stop: (reason: Error) => void): () => void {
  let received = 0;
  const handler = (signal: NodeJS.Signals): void => {
    received++;
    if (received === 1) {
      logger.info({ signal }, 'stopping: the running task goes back to the queue');
      stop(new Error(`received ${signal}`));
      return;
    }
    logger.warn({ signal }, 'second signal: exiting now');
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return () => {
    process.off('SIGTERM', handler);
    process.off('SIGINT', handler);
  };
}
