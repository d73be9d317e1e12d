import { shallowRef } from 'vue';
import type { FarmCounts, FarmSample, FinishedMinute } from '../../../src/contract/index.js';
import { api } from '../lib/api.js';
import { makeBatcher } from '../lib/batcher.js';
import { onFarmEvent, onResync } from '../lib/live.js';

/** The last hour is plotted. */
const HISTORY_MINUTES = 60;

/**
 * The farm's counts now and its load over the last hour: the stored history once, then the
 * counts read again after changes (batched), each reading adding a point, and finished tasks
 * counted into their minute from the events.
 */
export function openFarm() {
  const counts = shallowRef<FarmCounts>();
  const samples = shallowRef<FarmSample[]>([]);
  const finished = shallowRef<FinishedMinute[]>([]);
  const error = shallowRef('');

  const readCounts = async (): Promise<void> => {
    try {
      const now = await api.farm();
      counts.value = now;
      samples.value = [
        ...samples.value,
        {
          at: new Date().toISOString(),
          busyWorkers: now.busyWorkers,
          awakeWorkers: now.workers.awake ?? 0,
          queuedTasks: (now.tasks.queued ?? 0) + (now.tasks['soft-failed'] ?? 0),
          activeTasks: now.tasks.active ?? 0,
        },
      ];
      error.value = '';
    } catch (failure) {
      error.value = (failure as Error).message;
    }
  };
  const load = async (): Promise<void> => {
    try {
      const history = await api.farmHistory(HISTORY_MINUTES);
      samples.value = history.samples;
      finished.value = history.finishedPerMinute;
    } catch (failure) {
      error.value = (failure as Error).message;
    }
    await readCounts();
  };
  const countFinished = (status: string): void => {
    const minute = new Date();
    minute.setSeconds(0, 0);
    const key = minute.toISOString();
    const list = [...finished.value];
    let last = list.at(-1);
    if (!last || last.minute !== key) {
      last = { minute: key, completed: 0, failed: 0 };
      list.push(last);
    }
    if (status === 'completed') last.completed++;
    else last.failed++;
    finished.value = list;
  };
  const changed = makeBatcher(1000, readCounts);
  const stops = [
    onFarmEvent((event) => {
      if (event.type === 'log' || (event.type === 'task' && event.progress !== undefined)) return;
      if (event.type === 'task' && ['completed', 'failed', 'soft-failed'].includes(event.status))
        countFinished(event.status);
      changed('farm');
    }),
    onResync(() => void load()),
  ];
  void load();
  return {
    counts,
    samples,
    finished,
    error,
    close: () => {
      for (const stop of stops) stop();
    },
  };
}

/** Per-minute counts with the minutes between filled in as zeros, from 15 minutes ago (or the first count) to now. */
export function everyMinute(counts: readonly FinishedMinute[], now: number): FinishedMinute[] {
  const MINUTE = 60_000;
  const byMinute = new Map(counts.map((c) => [Date.parse(c.minute), c]));
  const last = Math.floor(now / MINUTE) * MINUTE;
  const first = Math.min(last - 15 * MINUTE, ...byMinute.keys());
  const out: FinishedMinute[] = [];
  for (let at = first; at <= last; at += MINUTE) {
    out.push(byMinute.get(at) ?? { minute: new Date(at).toISOString(), completed: 0, failed: 0 });
  }
  return out;
}
