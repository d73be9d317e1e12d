import type { Logger } from 'pino';
import { listScheduledWorkers } from '../persistence/workers.js';
import type { Db } from '../persistence/schema/database.js';
import type { WorkerService } from './worker-service.js';

/**
 * Asks scheduled workers to sleep or wake (after their current task) as the clock passes.
 * Setting or changing a schedule applies it at once (WorkerService.setSleepSchedule); this
 * covers the clock crossing a window's edge.
 */
export function startSleepScheduler(
  deps: { db: Db; workers: Pick<WorkerService, 'applySleepSchedule'>; log: Logger },
  intervalMs: number,
): () => void {
  const check = async (): Promise<void> => {
    for (const worker of await listScheduledWorkers(deps.db)) await deps.workers.applySleepSchedule(worker);
  };
  const timer = setInterval(
    () => void check().catch((error: unknown) => deps.log.warn({ err: error }, 'sleep schedule check failed')),
    intervalMs,
  );
  timer.unref();
  return () => clearInterval(timer);
}
