import type { Db } from '../persistence/schema/database.js';
import {
  fetchFarmCounts,
  fetchFinishedPerMinute,
  fetchJobRuns,
  fetchJobTimings,
  fetchSamples,
  measureLoad,
} from '../persistence/history.js';
import { fetchJob } from '../persistence/jobs.js';
import type { FarmCounts, FarmHistory, JobTiming, TaskRun } from '../../contract/index.js';
import { JOB_STATUSES, TASK_STATUSES, WORKER_STATUSES } from '../state/statuses.js';
import { MINUTE } from '../../util/time.js';
import type { Clock } from '../../util/clock.js';

/** At most this many runs of one job are listed (the newest). */
const MAX_RUNS = 20_000;

const zeroes = (names: readonly string[]): Record<string, number> => Object.fromEntries(names.map((name) => [name, 0]));

/** The dashboard's reads of the farm's history: counts now, load over time, runs of a job. */
export class HistoryService {
  constructor(private readonly deps: { db: Db; now: Clock }) {}

  async counts(): Promise<FarmCounts> {
    const [counts, load] = await Promise.all([fetchFarmCounts(this.deps.db), measureLoad(this.deps.db)]);
    const jobs = zeroes(JOB_STATUSES);
    for (const row of counts.jobs) jobs[row.status] = row.n;
    const workers = zeroes(WORKER_STATUSES);
    for (const row of counts.workers) workers[row.status] = row.n;
    return {
      jobs,
      tasks: { ...zeroes(TASK_STATUSES), ...counts.tasks },
      workers,
      busyWorkers: load.busy_workers,
    } as FarmCounts;
  }

  async history(minutes: number): Promise<FarmHistory> {
    const since = new Date(this.deps.now().getTime() - minutes * MINUTE);
    const [samples, finished] = await Promise.all([
      fetchSamples(this.deps.db, since),
      fetchFinishedPerMinute(this.deps.db, since),
    ]);
    return {
      samples: samples.map((s) => ({
        at: s.at.toISOString(),
        busyWorkers: s.busy_workers,
        awakeWorkers: s.awake_workers,
        queuedTasks: s.queued_tasks,
        activeTasks: s.active_tasks,
      })),
      finishedPerMinute: finished.map((m) => ({
        minute: m.minute.toISOString(),
        completed: m.completed,
        failed: m.failed,
      })),
    };
  }

  /** A job's runs; 404 for a job that does not exist. */
  async runs(jobId: string): Promise<TaskRun[]> {
    await fetchJob(this.deps.db, jobId);
    const rows = await fetchJobRuns(this.deps.db, jobId, MAX_RUNS);
    return rows.map((row) => ({
      taskId: row.task_id,
      workerId: row.worker_id,
      workerName: row.worker_name,
      startedAt: row.started_at?.toISOString() ?? null,
      finishedAt: row.finished_at?.toISOString() ?? null,
      outcome: row.outcome as TaskRun['outcome'],
    }));
  }

  async timings(): Promise<JobTiming[]> {
    const rows = await fetchJobTimings(this.deps.db);
    return rows.map((row) => ({
      jobId: row.job_id,
      startedAt: row.started_at ? new Date(row.started_at).toISOString() : null,
      lastFinishedAt: row.last_finished_at ? new Date(row.last_finished_at).toISOString() : null,
    }));
  }
}
