// The public surface of src/worker: the worker daemon, for `kiln worker` to run.
export { runWorker, type RunWorkerOptions } from './main.js';
export { EXIT_OK, EXIT_RESTART, Worker, signOnBody, type WorkerDeps } from './worker.js';
export {
  DEFAULT_TASK_TYPES,
  WorkerConfigSchema,
  loadWorkerConfig,
  workerDefaults,
  type WorkerConfig,
  type WorkerFlags,
} from './config.js';
export {
  CREDENTIALS_FILE,
  CredentialKeeper,
  AuthenticationError,
  readCredentials,
  type StoredCredentials,
} from './credentials.js';
export { UpdateQueue, type SendUpdate, type UpdateQueueOptions } from './update-queue.js';
export { runTask, type TaskOutcome, type TaskRunnerDeps } from './task-runner.js';
export {
  COMMAND_HANDLERS,
  COMMAND_NAMES,
  checkCommand,
  runCommand,
  CommandError,
  CommandAbortedError,
  type CommandContext,
} from './commands/index.js';
