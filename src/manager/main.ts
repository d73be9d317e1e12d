import { join, resolve } from 'node:path';
import pino, { type Logger } from 'pino';
import type { Kysely } from 'kysely';
import { createJobTypeRegistry } from '../jobs/index.js';
import { createKysely, createPool, migrateToLatest } from '../db/database.js';
import { SECOND } from '../util/time.js';
import { parseListen, type ManagerConfig } from './config.js';
import { chooseDatabase } from './database-choice.js';
import type { Database } from './persistence/tables.js';
import { EventBus } from './events/bus.js';
import { TaskLogs } from './logs/task-logs.js';
import { Previews } from './previews.js';
import { Dispatcher } from './scheduler/dispatcher.js';
import { JobService } from './jobs/job-service.js';
import { TaskUpdates } from './tasks/task-updates.js';
import { TaskControl } from './tasks/task-control.js';
import { WorkerService } from './workers/worker-service.js';
import { ensureFarmSecret, apiTokenHashes } from './auth/secrets.js';
import { startTimeoutChecker } from './timeouts.js';
import { startSleepScheduler } from './workers/sleep-scheduler.js';
import { buildApp, type App } from './api/app.js';
import { SharedStorage, type JobStorage } from './storage/shared-storage.js';
import { collectGarbage } from '../storage/index.js';
import type { ManagerContext } from './context.js';
import type { FailurePolicy } from './state/job-status.js';
import { isDatabaseUnavailable } from './persistence/errors.js';
import { UserError } from '../util/errors.js';
import { KILN_VERSION } from '../util/version.js';

export { KILN_VERSION } from '../util/version.js';

export interface RunningManager {
  url: string;
  app: App;
  ctx: ManagerContext;
  farmSecret: string;
  close: () => Promise<void>;
}

/** The composition root: connects the database, builds the services, serves the API. */
export async function startManager(options: {
  home: string;
  config: ManagerConfig;
  log?: Logger;
}): Promise<RunningManager> {
  const { home, config } = options;
  const { host, port } = parseListen(config.listen); // a bad address fails before anything starts
  const log = options.log ?? pino({ name: 'kiln-manager' }, pino.destination(2));
  // Refuse settings that cannot work before anything starts (UNC path, cloud-synced folder).
  const storage = await SharedStorage.open(config);
  const database = await chooseDatabase(home, config, { maxConnections: 20, embedded: 'start' });
  if (database.created) log.info({ data: database.data }, 'created the database cluster');
  const { target, stop: stopEmbeddedDatabase } = database;
  const pool = createPool(target);
  // An idle connection dropping (database restart) must not crash the manager.
  pool.on('error', (error) =>
    log.warn({ code: (error as { code?: string }).code, reason: error.message }, 'database connection lost'),
  );
  const db = createKysely<Database>(pool);
  try {
    const { applied, version } = await migrateToLatest(db as unknown as Kysely<unknown>);
    log.info({ applied, version, database: target.description }, 'database ready');
  } catch (error) {
    await db.destroy();
    await stopEmbeddedDatabase?.();
    if (isDatabaseUnavailable(error) || isDatabaseUnavailable((error as Error).cause)) {
      const cause = ((error as Error).cause ?? error) as Error;
      throw new UserError(`cannot reach the database (${target.description}): ${cause.message}`, {
        code: 'database_unavailable',
      });
    }
    throw error;
  }

  const policy: FailurePolicy = {
    maxWorkersPerTask: config.failure.max_workers_per_task,
    blocklistThreshold: config.failure.blocklist_threshold,
    jobFailShare: config.failure.job_fail_share,
  };
  const dataDir = resolve(config.data ?? join(home, 'manager'));
  const bus = new EventBus();
  const logs = new TaskLogs(join(dataDir, 'logs'));
  const previews = new Previews(join(dataDir, 'previews'));
  const { registry, report } = await createJobTypeRegistry({ jobTypesDir: config.job_types_dir });
  for (const problem of report.problems) log.warn({ file: problem.file }, `job type skipped: ${problem.message}`);
  const dispatcher = new Dispatcher({ db, bus, log });
  const onWorkReady = (): void => dispatcher.kick();
  const farmSecret = await ensureFarmSecret(db);
  const workers = new WorkerService({
    db,
    bus,
    policy,
    farmSecret,
    onWorkReady,
    onControl: (id) => dispatcher.release(id),
  });
  const taskUpdates = new TaskUpdates({ db, bus, logs, policy, onWorkReady });
  const ctx: ManagerContext = {
    config,
    log,
    db,
    bus,
    logs,
    previews,
    registry,
    policy,
    dispatcher,
    workers,
    taskUpdates,
    storage,
    jobs: new JobService({
      db,
      bus,
      logs,
      registry,
      policy,
      onWorkReady,
      onJobDeleted: (job) => storage.removeJobFiles(job.storage as JobStorage | null),
    }),
    taskControl: new TaskControl({ db, bus, logs, policy, onWorkReady }),
    apiTokenHashes: () => apiTokenHashes(db),
    version: KILN_VERSION,
  };
  const app = await buildApp(ctx);
  let address: string;
  try {
    address = await app.listen({ host, port });
  } catch (error) {
    await app.close();
    dispatcher.stop();
    await db.destroy();
    await stopEmbeddedDatabase?.();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new UserError(
        `cannot listen on ${config.listen}: the port is already in use (pick another with --listen)`,
        { field: 'listen' },
      );
    if (code === 'EADDRNOTAVAIL')
      throw new UserError(`cannot listen on ${config.listen}: no interface of this host has that address`, {
        field: 'listen',
      });
    throw error;
  }
  const url = address.replace('0.0.0.0', '127.0.0.1').replace('[::]', '[::1]');
  const stopTimeouts = startTimeoutChecker(
    {
      db,
      bus,
      logs,
      log,
      taskUpdates,
      workers,
      waitingWorkerIds: () => dispatcher.waitingWorkerIds(),
      taskTimeoutMs: config.task_timeout * SECOND,
      workerTimeoutMs: config.worker_timeout * SECOND,
    },
    config.timeout_check_interval * SECOND,
  );
  const stopSleep = startSleepScheduler({ db, workers, log }, 30 * SECOND);
  const gc = storage.shaman
    ? setInterval(() => {
        collectGarbage(storage.shaman!, storage.jobsDir!, { maxAgeMs: config.shaman.gc.max_age * SECOND })
          .then((report) => report.blobsRemoved && log.info(report, 'shaman garbage collected'))
          .catch((error: unknown) => log.warn({ err: error }, 'shaman garbage collection failed'));
      }, config.shaman.gc.period * SECOND)
    : undefined;
  gc?.unref();
  // Heartbeats are written in batches every few seconds (worker_timeout is a minute).
  const heartbeat = setInterval(
    () => void workers.flushHeartbeats(dispatcher.waitingWorkerIds()).catch(() => undefined),
    5 * SECOND,
  );
  heartbeat.unref();
  log.info({ url }, 'manager listening');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      stopTimeouts();
      stopSleep();
      clearInterval(heartbeat);
      if (gc) clearInterval(gc);
      dispatcher.stop();
      await app.close();
      await workers.flushHeartbeats().catch(() => undefined);
      await db.destroy();
      await stopEmbeddedDatabase?.();
      log.info('manager stopped');
    })());
  return { url, app, ctx, farmSecret, close };
}
