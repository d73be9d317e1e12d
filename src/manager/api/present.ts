import type { Blocklist, Job, Task, Worker } from '../../contract/index.js';
import { countsOf, type JobRow, type TaskRow, type WorkerRow } from '../persistence/schema/tables.js';
import type { BlocklistEntry } from '../persistence/workers.js';

/** Stored rows as the API shows them (the contract's shapes): the one place rows become answers. */

export function toJob(row: JobRow): Job {
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    typeEtag: row.type_etag,
    priority: row.priority,
    status: row.status,
    activity: row.activity,
    settings: row.settings,
    metadata: row.metadata,
    tag: row.tag,
    frames: row.frames,
    chunkSize: row.chunk_size,
    storage: row.storage,
    taskCount: row.task_count,
    taskCounts: countsOf(row),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export function toTask(row: TaskRow, dependsOn: string[] = []): Task {
  return {
    id: row.id,
    jobId: row.job_id,
    index: row.idx,
    name: row.name,
    type: row.type,
    priority: row.priority,
    status: row.status,
    activity: row.activity,
    progress: row.progress,
    workerId: row.worker_id,
    failedByWorkers: row.failed_by_workers,
    dependsOn,
    commands: row.commands,
    lastTouchedAt: row.last_touched_at ? row.last_touched_at.toISOString() : null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export function toWorker(row: WorkerRow, currentTaskId: string | null = null): Worker {
  return {
    id: row.id,
    name: row.name,
    platform: row.platform,
    supportedTaskTypes: row.supported_task_types,
    tags: row.tags,
    status: row.status,
    statusRequested: row.status_requested,
    lazyStatusRequest: row.lazy_status_request,
    address: row.address,
    softwareVersion: row.software_version,
    sleepSchedule: (row.sleep_schedule as Worker['sleepSchedule']) ?? null,
    lastSeenAt: row.last_seen_at.toISOString(),
    currentTaskId,
  };
}

export function toBlocklist(entries: BlocklistEntry[]): Blocklist {
  return {
    blocklist: entries.map((entry) => ({
      workerId: entry.workerId,
      workerName: entry.workerName,
      taskType: entry.taskType,
      since: entry.since.toISOString(),
    })),
  };
}
