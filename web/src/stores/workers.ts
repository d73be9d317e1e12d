import { shallowRef, triggerRef } from 'vue';
import type { Worker } from '../../../src/contract/index.js';
import { api } from '../lib/api.js';
import { readEachInto } from '../lib/read-each.js';
import { makeBatcher } from '../lib/batcher.js';
import { onFarmEvent, onResync } from '../lib/live.js';

/** Every worker, kept current from the event stream (as the jobs store does for jobs). */
export const workers = shallowRef<Worker[]>([]);
export const workersLoaded = shallowRef(false);
export const workersError = shallowRef('');

const RELOAD_OVER = 50;

async function reload(): Promise<void> {
  try {
    workers.value = await api.workers();
    workersLoaded.value = true;
    workersError.value = '';
  } catch (error) {
    workersError.value = (error as Error).message;
  }
}

async function refresh(ids: Set<string>): Promise<void> {
  if (ids.size > RELOAD_OVER) return reload();
  workers.value = await readEachInto(
    () => workers.value,
    ids,
    (id) => api.worker(id),
    'end',
  );
}

/** Puts a worker the API just answered with in place (the event follows, but the click shows at once). */
export function putWorker(worker: Worker): void {
  const index = workers.value.findIndex((w) => w.id === worker.id);
  if (index !== -1) workers.value[index] = worker;
  triggerRef(workers);
}

let started = false;

export function useWorkers(): void {
  if (started) return;
  started = true;
  const changed = makeBatcher(250, refresh);
  onFarmEvent((event) => {
    if (event.type === 'worker') changed(event.workerId);
    // A worker takes or drops a task: its current task changes.
    else if (event.type === 'task' && event.workerId && event.progress === undefined) changed(event.workerId);
  });
  onResync(() => void reload());
  void reload();
}
