/**
 * One try at delivering one task update, and what its answer means for the queue: delivered;
 * dropped (409/404: this worker no longer holds the task); discarded (another refusal, which
 * sending again would not change); or retry (the manager is away or answered 5xx).
 */
import type { Logger } from 'pino';
import { ApiError, isRetryable } from '../client/errors.js';
import type { TaskUpdate } from '../client/types.js';
import { toError } from '../util/errors.js';
import type { JournalEntry } from './update-journal.js';

export type SendUpdate = (taskId: string, update: TaskUpdate, signal: AbortSignal) => Promise<void>;

export type Outcome =
  | { kind: 'delivered' | 'dropped' | 'discarded' }
  /** `retryAfterMs`: the manager's Retry-After, when it gave one. */
  | { kind: 'retry'; retryAfterMs?: number | undefined };

export async function attemptUpdate(
  send: SendUpdate,
  entry: JournalEntry,
  signal: AbortSignal,
  logger: Logger | undefined,
): Promise<Outcome> {
  try {
    await send(entry.taskId, entry.update, signal);
    return { kind: 'delivered' };
  } catch (error) {
    // The queue is closing: the update stays queued for the next run.
    if (signal.aborted) return { kind: 'retry' };
    if (error instanceof ApiError && (error.status === 409 || error.status === 404)) {
      logger?.info(
        { taskId: entry.taskId, status: error.status, reason: error.message },
        'the manager took this task away (canceled, requeued or given to another worker); dropping its updates',
      );
      return { kind: 'dropped' };
    }
    if (error instanceof ApiError && !isRetryable(error)) {
      logger?.error(
        { taskId: entry.taskId, status: error.status, code: error.code, reason: error.message },
        'the manager refused a task update; discarding it',
      );
      return { kind: 'discarded' };
    }
    if (!isRetryable(error)) logger?.warn({ err: toError(error) }, 'task update failed; will retry');
    return { kind: 'retry', retryAfterMs: error instanceof ApiError ? error.retryAfterMs : undefined };
  }
}
