import type { Logger } from 'pino';
import { managerLogLine, type TaskLogs } from './logs/task-logs.js';
import type { TaskUpdates } from './tasks/task-updates.js';
import type { WorkerService } from './workers/worker-service.js';
import type { WorkerAuth } from './workers/worker-auth.js';
import { workersUnseenSince } from './persistence/workers.js';
import { activeTasksUntouchedSince } from './persistence/tasks.js';
import type { Db } from './persistence/schema/database.js';
import type { Clock } from '../util/clock.js';
import { SECOND } from '../util/time.js';

export interface TimeoutDeps {
  db: Db;
  logs: TaskLogs;
  log: Logger;
  taskUpdates: Pick<TaskUpdates, 'apply'>;
  workers: Pick<WorkerService, 'signOff'>;
  auth: Pick<WorkerAuth, 'flushHeartbeats'>;
  /** Workers in a long poll right now (alive, though silent). */
  waitingWorkerIds: () => string[];
  taskTimeoutMs: number;
  workerTimeoutMs: number;
  /** The clock reports and heartbeats are stamped with, and timeouts measured against. */
  now: Clock;
}

/**
 * Finds stuck tasks and silent workers. A task with no update for task_timeout fails
 * (through the normal failure policy, as a failure of the worker that held it); a worker
 * unseen for worker_timeout goes to `error` and its task is requeued.
 */
export async function checkTimeouts(deps: TimeoutDeps): Promise<{ tasks: number; workers: number }> {
  await deps.auth.flushHeartbeats(deps.waitingWorkerIds());
  const now = deps.now().getTime();
  const silent = await workersUnseenSince(deps.db, new Date(now - deps.workerTimeoutMs));
  for (const worker of silent) {
    deps.log.warn({ worker: worker.id, name: worker.name }, 'worker timed out');
    // A worker that signed on again or was deleted since the read is refused: that one is done,
    // the others (and the stuck tasks below) still are checked.
    await deps.workers
      .signOff(worker.id, 'error', `unseen for ${Math.round(deps.workerTimeoutMs / SECOND)} s`)
      .catch((error: unknown) =>
        deps.log.info({ worker: worker.id, reason: (error as Error).message }, 'timeout skipped'),
      );
  }
  const stuck = await activeTasksUntouchedSince(deps.db, new Date(now - deps.taskTimeoutMs));
  for (const task of stuck) {
    const note = `task timed out: no update from its worker for ${Math.round(deps.taskTimeoutMs / SECOND)} s`;
    deps.log.warn({ task: task.id, worker: task.worker_id }, 'task timed out');
    await deps.logs.append(task.job_id, task.id, [managerLogLine(note, deps.now())]);
    await deps.taskUpdates.apply(task.worker_id, task.id, { status: 'failed', activity: note }).catch(() => undefined);
  }
  return { tasks: stuck.length, workers: silent.length };
}

/** Runs checkTimeouts every `intervalMs` until stopped; never two at once. */
export function startTimeoutChecker(deps: TimeoutDeps, intervalMs: number): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    checkTimeouts(deps)
      .catch((error: unknown) => deps.log.warn({ err: error }, 'timeout check failed'))
      .finally(() => (running = false));
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
