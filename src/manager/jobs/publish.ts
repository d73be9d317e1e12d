import type { EventBus } from '../events/bus.js';
import type { SyncResult } from './job-sync.js';

/** Tells subscribers about committed task and job changes. */
export function publishSync(bus: EventBus, sync: SyncResult): void {
  for (const task of sync.tasks) {
    if (task.from !== task.to)
      bus.publish({ type: 'task', jobId: task.jobId, taskId: task.id, status: task.to, workerId: task.workerId });
  }
  for (const job of sync.jobs)
    bus.publish({ type: 'job', jobId: job.jobId, status: job.to, change: `${job.from} -> ${job.to}` });
}
