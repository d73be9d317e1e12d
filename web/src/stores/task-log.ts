import { shallowRef } from 'vue';
import type { Task } from '../../../src/contract/index.js';
import { api } from '../lib/api.js';
import { onFarmEvent, onResync } from '../lib/live.js';

/** The page keeps at most this many lines; the whole log is a download away. */
const MAX_LINES = 20_000;
const TAIL_LINES = 2_000;

/**
 * One task and its log, followed live: the tail is read once, then each `log` event of the task
 * appends its lines. Events that arrive while the tail loads are kept and added after it.
 */
export function openTaskLog(taskId: string) {
  const task = shallowRef<Task>();
  const lines = shallowRef<string[]>([]);
  const error = shallowRef('');
  let loaded = false;
  let early: string[] = [];

  const append = (more: string[]): void => {
    const next = lines.value.concat(more);
    lines.value = next.length > MAX_LINES ? next.slice(next.length - MAX_LINES) : next;
  };
  const load = async (): Promise<void> => {
    try {
      const [t, tail] = await Promise.all([api.task(taskId), api.logTail(taskId, TAIL_LINES)]);
      task.value = t;
      lines.value = tail.lines;
      loaded = true;
      if (early.length) append(early);
      early = [];
      error.value = '';
    } catch (failure) {
      error.value = (failure as Error).message;
    }
  };
  const readTask = async (): Promise<void> => {
    task.value = await api.task(taskId).catch(() => task.value);
  };
  const stops = [
    onFarmEvent((event) => {
      if (event.type === 'log' && event.taskId === taskId) {
        if (loaded) append(event.lines);
        else early.push(...event.lines);
      } else if (event.type === 'task' && event.taskId === taskId) {
        if (event.progress !== undefined && task.value)
          task.value = { ...task.value, progress: event.progress, activity: event.activity ?? task.value.activity };
        else void readTask();
      }
    }),
    onResync(() => void load()),
  ];
  void load();
  return {
    task,
    lines,
    error,
    close: () => {
      for (const stop of stops) stop();
    },
  };
}
