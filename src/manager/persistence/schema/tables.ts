import type { ColumnType, Generated, Selectable } from 'kysely';
import type { JobStatus, TaskCounts, TaskStatus, WorkerStatus } from '../../state/statuses.js';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T> = ColumnType<T, string | T, string | T>;

interface JobTable {
  id: string;
  name: string;
  type: string;
  type_etag: string;
  priority: number;
  status: JobStatus;
  activity: Generated<string>;
  settings: Json<Record<string, unknown>>;
  metadata: Json<Record<string, unknown>>;
  tag: string | null;
  frames: string | null;
  chunk_size: number | null;
  storage: Json<Record<string, unknown>> | null;
  task_count: Generated<number>;
  count_queued: Generated<number>;
  count_active: Generated<number>;
  count_soft_failed: Generated<number>;
  count_failed: Generated<number>;
  count_completed: Generated<number>;
  count_canceled: Generated<number>;
  count_paused: Generated<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

interface TaskTable {
  id: string;
  job_id: string;
  idx: number;
  name: string;
  type: string;
  priority: number;
  status: TaskStatus;
  commands: Json<unknown[]>;
  worker_id: string | null;
  activity: Generated<string>;
  progress: Generated<number>;
  failed_by_workers: ColumnType<string[], string[] | undefined, string[]>;
  pending_deps: Generated<number>;
  job_priority: number;
  job_created_at: Timestamp;
  job_tag: string | null;
  last_touched_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** Sequence number of the last worker update applied (a replayed one is skipped). */
  last_update_seq: ColumnType<string | null, string | number | null | undefined, string | number | null>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

interface TaskDependencyTable {
  task_id: string;
  depends_on: string;
}

interface WorkerTable {
  id: string;
  name: string;
  secret_hash: string;
  platform: string;
  supported_task_types: ColumnType<string[], string[] | undefined, string[]>;
  tags: ColumnType<string[], string[] | undefined, string[]>;
  tags_set_by_user: Generated<boolean>;
  status: WorkerStatus;
  status_requested: WorkerStatus | null;
  lazy_status_request: Generated<boolean>;
  address: Generated<string>;
  software_version: Generated<string>;
  sleep_schedule: Json<SleepSchedule> | null;
  last_seen_at: Timestamp;
  created_at: Timestamp;
}

export interface SleepSchedule {
  enabled: boolean;
  /** Lower-case English day abbreviations: mon, tue, ...; empty means every day. */
  days: string[];
  /** "HH:MM" local time the worker goes to sleep, and wakes up. */
  start: string;
  end: string;
}

interface JobBlocklistTable {
  job_id: string;
  worker_id: string;
  task_type: string;
  created_at: Timestamp;
}

interface SettingTable {
  key: string;
  value: Json<unknown>;
  updated_at: Timestamp;
}

/** One run of a task on a worker (dashboard history; see migration 0007). */
interface TaskRunTable {
  id: string;
  task_id: string;
  job_id: string;
  worker_id: string | null;
  started_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  finished_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  outcome: string;
}

/** The farm's load at one moment (dashboard plots). */
interface FarmSampleTable {
  at: Timestamp;
  busy_workers: number;
  awake_workers: number;
  queued_tasks: number;
  active_tasks: number;
}

export interface Database {
  job: JobTable;
  task: TaskTable;
  task_dependency: TaskDependencyTable;
  worker: WorkerTable;
  job_blocklist: JobBlocklistTable;
  kiln_setting: SettingTable;
  task_run: TaskRunTable;
  farm_sample: FarmSampleTable;
}

export type JobRow = Selectable<JobTable>;
export type TaskRow = Selectable<TaskTable>;
export type WorkerRow = Selectable<WorkerTable>;

/** A job row's per-status task counters (kept by the store as tasks change). */
export function countsOf(row: {
  count_queued: number;
  count_active: number;
  count_soft_failed: number;
  count_failed: number;
  count_completed: number;
  count_canceled: number;
  count_paused: number;
}): TaskCounts {
  return {
    queued: row.count_queued,
    active: row.count_active,
    'soft-failed': row.count_soft_failed,
    failed: row.count_failed,
    completed: row.count_completed,
    canceled: row.count_canceled,
    paused: row.count_paused,
  };
}
