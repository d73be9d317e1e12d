import type { Job, JobAction } from '../../../src/contract/index.js';
import { api } from './api.js';
import { JOB_ACTION_FROM, TASK_ACTION_FROM, WORKER_ACTION_FROM } from '../../../src/manager/state/actions.js';

export { TASK_ACTION_FROM, WORKER_ACTION_FROM };

/** The jobs table's actions on many jobs at once; each job's refusal is reported, the others go on. */

/** Whether `action` means something for a job in `status`: the manager's own table (state/actions.ts). */
export function canAct(action: keyof typeof JOB_ACTION_FROM, status: Job['status']): boolean {
  return (JOB_ACTION_FROM[action] as readonly string[]).includes(status);
}

/** Runs `one` for every id, a few at a time; the answer lists the failures as "name: reason". */
export async function forEachJob(
  jobs: readonly Job[],
  one: (job: Job) => Promise<unknown>,
  concurrency = 8,
): Promise<string[]> {
  const failures: string[] = [];
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, jobs.length) }, async () => {
    while (next < jobs.length) {
      const job = jobs[next++] as Job;
      await one(job).catch((error: unknown) => failures.push(`${job.name}: ${(error as Error).message}`));
    }
  });
  await Promise.all(lanes);
  return failures;
}

export const jobActions = {
  act: (job: Job, action: JobAction) => api.jobAction(job.id, action),
  remove: (job: Job) => api.deleteJob(job.id),
  priority: (job: Job, priority: number) => api.setPriority(job.id, priority),
};
