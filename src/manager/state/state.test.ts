import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveJobStatus, taskStatusAfterFailure, shouldBlocklist } from './job-status.js';
import {
  canJobTransition,
  canTaskTransition,
  canWorkerTransition,
  JOB_TRANSITIONS,
  TASK_TRANSITIONS,
} from './transitions.js';
import { emptyCounts, JOB_STATUSES, TASK_STATUSES, type JobStatus, type TaskCounts } from './statuses.js';

const counts = (partial: Partial<TaskCounts>): TaskCounts => ({ ...emptyCounts(), ...partial });
const policy = { jobFailShare: 0.1 };

test('a job status derives from its task counts', () => {
  const table: Array<[JobStatus, Partial<TaskCounts>, JobStatus, string]> = [
    ['queued', { queued: 10 }, 'queued', 'nothing started'],
    ['queued', { queued: 9, active: 1 }, 'active', 'a task runs'],
    ['active', { queued: 9, completed: 1 }, 'active', 'between tasks'],
    ['active', { completed: 10 }, 'completed', 'all done'],
    ['active', { completed: 9, 'soft-failed': 1 }, 'active', 'a soft failure is retried'],
    ['active', { completed: 19, failed: 1 }, 'failed', 'all finished, one failed'],
    ['active', { queued: 18, failed: 2 }, 'failed', '2 of 20 is 10%'],
    ['active', { queued: 19, failed: 1 }, 'active', '1 of 20 is 5%'],
    ['active', { queued: 4, failed: 1 }, 'failed', 'one task of 5 is past 10%'],
    ['pause-requested', { active: 1, paused: 5 }, 'pause-requested', 'waits for the running task'],
    ['pause-requested', { paused: 5, completed: 1 }, 'paused', 'nothing runs any more'],
    ['pause-requested', { completed: 6 }, 'completed', 'the last task finished while pausing'],
    ['cancel-requested', { active: 2, canceled: 4 }, 'cancel-requested', 'waits for running tasks'],
    ['cancel-requested', { canceled: 6 }, 'canceled', 'done canceling'],
    ['paused', { paused: 3 }, 'paused', 'paused stays paused'],
    ['completed', { completed: 3 }, 'completed', 'final'],
    ['queued', {}, 'queued', 'no tasks: unchanged'],
  ];
  for (const [current, partial, expected, why] of table)
    assert.equal(deriveJobStatus(current, counts(partial), policy), expected, why);
});

test('failure policy: soft-fail until enough distinct workers failed; blocklist at the threshold', () => {
  const rules = { maxWorkersPerTask: 3, blocklistThreshold: 3 };
  assert.deepEqual(
    [1, 2, 3, 4].map((n) => taskStatusAfterFailure(n, rules)),
    ['soft-failed', 'soft-failed', 'failed', 'failed'],
  );
  assert.deepEqual(
    [1, 2, 3].map((n) => shouldBlocklist(n, rules)),
    [false, false, true],
  );
});

test('transition tables cover every status and allow only sensible moves', () => {
  assert.deepEqual(Object.keys(JOB_TRANSITIONS).sort(), [...JOB_STATUSES].sort());
  assert.deepEqual(Object.keys(TASK_TRANSITIONS).sort(), [...TASK_STATUSES].sort());
  const allowed: Array<[boolean, boolean, string]> = [
    [canJobTransition('completed', 'requeueing'), true, 'a completed job can be requeued'],
    [canJobTransition('completed', 'active'), false, 'but not made active directly'],
    [canJobTransition('canceled', 'paused'), false, 'a canceled job cannot pause'],
    [canJobTransition('cancel-requested', 'canceled'), true, 'cancel completes'],
    [canTaskTransition('completed', 'active'), false, 'a completed task is requeued first'],
    [canTaskTransition('soft-failed', 'active'), true, 'a soft failure is retried'],
    [canWorkerTransition('offline', 'awake'), true, 'sign on'],
    [canWorkerTransition('offline', 'error'), false, 'a worker that is away cannot time out'],
    [canJobTransition('completed', 'queued'), false, 'a completed job is requeued through requeueing'],
    [canJobTransition('failed', 'queued'), false, 'so is a failed one'],
  ];
  for (const [got, expected, why] of allowed) assert.equal(got, expected, why);
});
