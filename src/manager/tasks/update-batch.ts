/**
 * A batch of worker task updates, sorted before it is applied: which are plain completions (one
 * statement may take them), and per update what it does, checked against the tasks' locked rows.
 */
import type { TaskUpdate } from '../../contract/index.js';
import { ConflictError, NotFoundError } from '../persistence/errors.js';
import type { Completion } from '../persistence/round-at-once.js';
import type { TaskRow } from '../persistence/schema/tables.js';

/** An update waiting in TaskUpdates' queue, and how to answer its sender. */
export interface Pending {
  workerId: string;
  taskId: string;
  update: TaskUpdate;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Completions whose task appears once in the batch (completeAtOnce may take them), and the rest;
 * each keeps the batch's order.
 */
export function splitPlainCompletions<T extends { taskId: string; update: TaskUpdate }>(
  batch: T[],
): { plain: T[]; rest: T[] } {
  const perTask = new Map<string, number>();
  for (const item of batch) perTask.set(item.taskId, (perTask.get(item.taskId) ?? 0) + 1);
  const plain: T[] = [];
  const rest: T[] = [];
  for (const item of batch)
    (item.update.status === 'completed' && perTask.get(item.taskId) === 1 ? plain : rest).push(item);
  return { plain, rest };
}

export const asCompletion = (item: { taskId: string; workerId: string; update: TaskUpdate }): Completion => ({
  taskId: item.taskId,
  workerId: item.workerId,
  seq: item.update.seq,
});

/** Does this worker hold the task? A replay of an update that already applied is fine. */
function checkHolder(task: TaskRow, item: Pending): 'holds' | 'replay' | 'conflict' {
  if (task.status === 'active' && task.worker_id === item.workerId) return 'holds';
  const wanted = item.update.status;
  if (wanted === 'completed' && task.status === 'completed' && task.worker_id === item.workerId) return 'replay';
  if (wanted === 'failed' && task.failed_by_workers.includes(item.workerId) && task.worker_id !== item.workerId)
    return 'replay';
  return 'conflict';
}

const describe = (task: TaskRow): string =>
  task.worker_id ? `it is ${task.status}` : `it is ${task.status} and unassigned`;

/** A batch of updates, checked against the tasks' locked rows and sorted by what they do. */
export interface SortedBatch {
  /** Per update: undefined when it applied (or had already), else the error to answer with. */
  outcomes: Map<Pending, unknown>;
  logs: Array<{ jobId: string; taskId: string; lines: string[] }>;
  progress: Array<{
    jobId: string;
    taskId: string;
    status: string;
    workerId: string;
    progress?: number;
    activity?: string;
  }>;
  touched: Array<{ id: string; progress?: number; activity?: string }>;
  completed: string[];
  handedBack: string[];
  failed: Array<{ task: TaskRow; item: Pending }>;
  /** The newest update sequence number applied per task. */
  seqs: Map<string, number>;
}

/** Sorts a batch by what each update does; `tasks` is updated as the batch goes, so later updates see earlier ones. */
export function sortBatch(batch: Pending[], tasks: Map<string, TaskRow>): SortedBatch {
  const sorted: SortedBatch = {
    outcomes: new Map(),
    logs: [],
    progress: [],
    touched: [],
    completed: [],
    handedBack: [],
    failed: [],
    seqs: new Map(),
  };
  for (const item of batch) {
    const task = tasks.get(item.taskId);
    if (!task) {
      sorted.outcomes.set(item, new NotFoundError('task', item.taskId));
      continue;
    }
    const verdict = checkHolder(task, item);
    if (verdict !== 'holds') {
      sorted.outcomes.set(
        item,
        verdict === 'replay'
          ? undefined
          : new ConflictError(
              `task ${item.taskId} is not assigned to this worker (${describe(task)})`,
              'not_your_task',
            ),
      );
      continue;
    }
    // A worker replaying its queue after an outage may send an update that already applied.
    const seq = item.update.seq;
    const applied =
      sorted.seqs.get(task.id) ?? (task.last_update_seq === null ? undefined : Number(task.last_update_seq));
    if (seq !== undefined && applied !== undefined && seq <= applied) {
      sorted.outcomes.set(item, undefined);
      continue;
    }
    const { update } = item;
    if (update.log?.length) sorted.logs.push({ jobId: task.job_id, taskId: task.id, lines: update.log });
    if (update.status === 'completed') sorted.completed.push(task.id);
    else if (update.status === 'failed') sorted.failed.push({ task, item });
    else if (update.status === 'queued') sorted.handedBack.push(task.id);
    else {
      sorted.touched.push({ id: task.id, progress: update.progress, activity: update.activity });
      sorted.progress.push({
        jobId: task.job_id,
        taskId: task.id,
        status: 'active',
        workerId: item.workerId,
        progress: update.progress,
        activity: update.activity,
      });
    }
    if (seq !== undefined) sorted.seqs.set(task.id, seq);
    // Later updates of this task in the same batch see its new state.
    if (update.status && update.status !== 'active')
      tasks.set(task.id, {
        ...task,
        status: update.status === 'failed' ? 'soft-failed' : update.status,
        worker_id: update.status === 'completed' ? task.worker_id : null,
      });
    sorted.outcomes.set(item, undefined);
  }
  return sorted;
}
