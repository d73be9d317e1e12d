import { shallowRef } from 'vue';
import type { BlocklistEntry, Job, Task, TaskRun } from '../../../src/contract/index.js';
import { ApiFailure, api } from '../lib/api.js';
import { makeBatcher } from '../lib/batcher.js';
import { onFarmEvent, onResync } from '../lib/live.js';

/**
 * One job with its tasks, runs and blocklist, kept current from the event stream while its page
 * is open; `previewVersion` moves when a task of the job ends, so the page reloads the last frame.
 */
export function openJobDetail(jobId: string) {
  const job = shallowRef<Job>();
  const tasks = shallowRef<Task[]>([]);
  const runs = shallowRef<TaskRun[]>([]);
  const blocklist = shallowRef<BlocklistEntry[]>([]);
  const previewVersion = shallowRef(Date.now());
  const error = shallowRef('');

  const load = async (): Promise<void> => {
    try {
      const [j, t, r, b] = await Promise.all([
        api.job(jobId),
        api.jobTasks(jobId),
        api.jobRuns(jobId),
        api.blocklist(jobId),
      ]);
      job.value = j;
      tasks.value = t;
      runs.value = r.runs;
      blocklist.value = b.blocklist;
      error.value = '';
      previewVersion.value = Date.now();
    } catch (failure) {
      error.value =
        failure instanceof ApiFailure && failure.status === 404
          ? 'This job does not exist (any more).'
          : String(failure);
    }
  };
  const changed = makeBatcher(300, load);
  const stops = [
    onFarmEvent((event) => {
      if (event.type === 'worker' || event.jobId !== jobId) return;
      if (event.type === 'task' && event.progress !== undefined) {
        // Progress only: patch the task in place rather than reading everything again.
        tasks.value = tasks.value.map((task) =>
          task.id === event.taskId
            ? { ...task, progress: event.progress ?? task.progress, activity: event.activity ?? task.activity }
            : task,
        );
        return;
      }
      if (event.type !== 'log') changed(jobId);
    }),
    onResync(() => void load()),
  ];
  void load();
  return {
    job,
    tasks,
    runs,
    blocklist,
    previewVersion,
    error,
    reload: load,
    close: () => {
      for (const stop of stops) stop();
    },
  };
}
