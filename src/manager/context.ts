import type { Logger } from 'pino';
import type { JobTypeRegistry } from '../jobs/index.js';
import type { EventBus } from './events/bus.js';
import type { TaskLogs } from './logs/task-logs.js';
import type { Db } from './persistence/schema/database.js';
import type { FailurePolicy } from './state/job-status.js';
import type { Dispatcher } from './scheduler/dispatcher.js';
import type { JobService } from './jobs/job-service.js';
import type { TaskUpdates } from './tasks/task-updates.js';
import type { TaskControl } from './tasks/task-control.js';
import type { WorkerService } from './workers/worker-service.js';
import type { Previews } from './previews.js';
import type { ManagerConfig } from './config.js';
import type { SharedStorage } from './storage/shared-storage.js';

/** Everything the HTTP layer reaches; built once by the composition root (main.ts). */
export interface ManagerContext {
  config: ManagerConfig;
  log: Logger;
  db: Db;
  bus: EventBus;
  logs: TaskLogs;
  previews: Previews;
  storage: SharedStorage;
  registry: JobTypeRegistry;
  policy: FailurePolicy;
  dispatcher: Dispatcher;
  jobs: JobService;
  taskUpdates: TaskUpdates;
  taskControl: TaskControl;
  workers: WorkerService;
  /** Hashes of API tokens; empty with --open. */
  apiTokenHashes: () => Promise<string[]>;
  version: string;
}
