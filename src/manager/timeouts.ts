import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { EventBus } from './events/bus.js';
import { managerLogLine, type TaskLogs } from './logs/task-logs.js';
import type { TaskUpdates } from './tasks/task-updates.js';
import type { WorkerService } from './workers/worker-service.js';
import { workersUnseenSince } from './persistence/workers.js';
import type { Db } from './persistence/schema/database.js';
import { SECOND } from '../util/time.js';

export interface TimeoutDeps {
  db: Db;
  bus: EventBus;
  logs: TaskLogs;
  log: Logger;
  taskUpdates: TaskUpdates;
  workers: WorkerService;
  /** Workers in a long poll right now (alive, though silent). */
  waitingWorkerIds: () => string[];
  taskTimeoutMs: number;
  workerTimeoutMs: number;
}

/**
 * Finds stuck tasks and silent workers. A task with no update for task_timeout fails
 * (through the normal failure policy, as a failure of the worker that held it); a worker
 * unseen for worker_timeout goes to `error` and its task is requeued.
 */
export async function checkTimeouts(deps: TimeoutDeps): Promise<{ tasks: number; workers: number }> {
  await deps.workers.flushHeartbeats(deps.waitingWorkerIds());
  const cutoff = new Date(Date.now() - deps.workerTimeoutMs);
  const silent = await workersUnseenSince(deps.db, cutoff);
  for (const worker of silent) {
    deps.log.warn({ worker: worker.id, name: worker.name }, 'worker timed out');
    await deps.workers.signOff(worker.id, 'error', `unseen for ${Math.round(deps.workerTimeoutMs / SECOND)} s`);
  }
  const { rows: stuck } = await sql<{ id: string; job_id: string; worker_id: string }>`
    SELECT id, job_id, worker_id FROM task WHERE status = 'active' AND last_touched_at < now() - make_interval(secs => ${deps.taskTimeoutMs / SECOND})`.execute(
    deps.db,
  );
  for (const task of stuck) {
    const note = `task timed out: no update from its worker for ${Math.round(deps.taskTimeoutMs / SECOND)} s`;
    deps.log.warn({ task: task.id, worker: task.worker_id }, 'task timed out');
    await deps.logs.append(task.job_id, task.id, [managerLogLine(note)]);
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
