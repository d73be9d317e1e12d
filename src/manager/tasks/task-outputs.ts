import type { TaskLogs } from '../logs/task-logs.js';
import type { PreviewSize, Previews } from '../previews.js';
import type { Db } from '../persistence/schema/database.js';
import { ConflictError } from '../persistence/errors.js';
import { fetchJob } from '../persistence/jobs.js';
import { fetchTask } from '../persistence/tasks.js';

export interface TaskOutputsDeps {
  db: Db;
  logs: TaskLogs;
  previews: Previews;
}

/** What tasks leave on the manager's disk: their logs, and their job's latest preview. */
export class TaskOutputs {
  constructor(private readonly deps: TaskOutputsDeps) {}

  /** The last `lines` lines of a task's log. */
  async logTail(taskId: string, lines: number): Promise<string[]> {
    const task = await fetchTask(this.deps.db, taskId);
    return this.deps.logs.tail(task.job_id, task.id, lines);
  }

  async log(taskId: string): Promise<string> {
    const task = await fetchTask(this.deps.db, taskId);
    return this.deps.logs.full(task.job_id, task.id);
  }

  /** A rendered image from the worker holding the task becomes its job's preview. */
  async storePreview(workerId: string, taskId: string, image: Buffer): Promise<void> {
    const task = await fetchTask(this.deps.db, taskId);
    if (task.worker_id !== workerId) throw new ConflictError('this worker does not hold that task', 'not_your_task');
    await this.deps.previews.store(task.job_id, image);
  }

  /** A job's latest preview in one size; undefined while it has none. */
  async preview(jobId: string, size: PreviewSize): Promise<Buffer | undefined> {
    await fetchJob(this.deps.db, jobId);
    return this.deps.previews.read(jobId, size);
  }
}
