import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { createJobTypeRegistry, type JobTypeRegistry } from '../jobs/index.js';
import type { Clock } from '../util/clock.js';
import type { ManagerConfig } from './config.js';
import type { Db } from './persistence/schema/database.js';
import type { FailurePolicy } from './state/job-status.js';
import { EventBus } from './events/bus.js';
import { TaskLogs } from './logs/task-logs.js';
import { Previews } from './previews.js';
import { Dispatcher } from './scheduler/dispatcher.js';
import { JobService } from './jobs/job-service.js';
import { TaskUpdates } from './tasks/task-updates.js';
import { TaskControl } from './tasks/task-control.js';
import { TaskOutputs } from './tasks/task-outputs.js';
import { WorkerService } from './workers/worker-service.js';
import { WorkerAuth } from './workers/worker-auth.js';
import type { JobStorage, SharedStorage } from './storage/shared-storage.js';
import { SECOND } from '../util/time.js';

/** Everything the manager runs on, built once; main.ts hands each consumer the part it needs. */
export interface ManagerServices {
  db: Db;
  bus: EventBus;
  logs: TaskLogs;
  registry: JobTypeRegistry;
  dispatcher: Dispatcher;
  jobs: JobService;
  taskUpdates: TaskUpdates;
  taskControl: TaskControl;
  outputs: TaskOutputs;
  workers: WorkerService;
  auth: WorkerAuth;
}

export async function buildServices(parts: {
  db: Db;
  /** The scheduler's own session (openFarmDatabase's schedulerDb); default: the pool. */
  schedulerDb?: Db;
  config: ManagerConfig;
  home: string;
  log: Logger;
  storage: SharedStorage;
  farmSecret: string;
  now: Clock;
  /** The farm's event bus (the farm link subscribes to it before the services exist). */
  bus?: EventBus;
  /** The other managers of the farm: told when work may be ready and when a worker's long poll must end. */
  elsewhere?: { workReady: () => void; release: (workerId: string) => void };
}): Promise<ManagerServices> {
  const { db, config, log, storage, now } = parts;
  const policy: FailurePolicy = {
    maxWorkersPerTask: config.failure.max_workers_per_task,
    blocklistThreshold: config.failure.blocklist_threshold,
    jobFailShare: config.failure.job_fail_share,
  };
  const dataDir = resolve(config.data ?? join(parts.home, 'manager'));
  const bus = parts.bus ?? new EventBus();
  const logs = new TaskLogs(join(dataDir, 'logs'));
  const previews = new Previews(join(dataDir, 'previews'));
  const { registry, report } = await createJobTypeRegistry({ jobTypesDir: config.job_types_dir });
  for (const problem of report.problems) log.warn({ file: problem.file }, `job type skipped: ${problem.message}`);
  const dispatcher = new Dispatcher(
    {
      db: parts.schedulerDb ?? db,
      bus,
      log,
      now,
      // A worker's finish report is applied by the round that finds its next task.
      settleReports: (reports) => taskUpdates.applyAll(reports),
      settleAndPick: (reports, group, at, unchecked) => taskUpdates.settleAndPick(reports, group, at, unchecked),
    },
    config.dispatch_poll_interval * SECOND,
  );
  const onWorkReady = (): void => {
    dispatcher.kick();
    parts.elsewhere?.workReady();
  };
  const taskUpdates = new TaskUpdates({ db, atOnceDb: parts.schedulerDb, bus, logs, policy, onWorkReady, now });
  const jobs = new JobService({
    db,
    bus,
    logs,
    registry,
    policy,
    onWorkReady,
    onJobDeleted: (job) => storage.removeJobFiles(job.storage as JobStorage | null),
  });
  const auth = new WorkerAuth({ db, bus, farmSecret: parts.farmSecret, now });
  const workers = new WorkerService({
    db,
    bus,
    policy,
    now,
    onWorkReady,
    onControl: (id) => {
      dispatcher.release(id);
      parts.elsewhere?.release(id);
    },
    dispatcher,
    taskUpdates,
    jobs,
    storage,
    auth,
    longPollMs: config.long_poll * SECOND,
  });
  return {
    db,
    bus,
    logs,
    registry,
    dispatcher,
    jobs,
    workers,
    auth,
    taskUpdates,
    taskControl: new TaskControl({ db, bus, logs, policy, onWorkReady }),
    outputs: new TaskOutputs({ db, logs, previews }),
  };
}
