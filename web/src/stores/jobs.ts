import { shallowRef } from 'vue';
import type { Job, JobTiming } from '../../../src/contract/index.js';
import { api } from '../lib/api.js';
import { readEachInto } from '../lib/read-each.js';
import { makeBatcher } from '../lib/batcher.js';
import { onFarmEvent, onResync } from '../lib/live.js';

/**
 * Every job, kept current from the event stream: a changed job is read again (batched), a burst
 * of many changes reloads the list, and a reconnect reloads everything. No polling.
 */
export const jobs = shallowRef<Job[]>([]);
/** Per job: when its first task started and its last one ended. */
export const timings = shallowRef(new Map<string, JobTiming>());
export const jobsLoaded = shallowRef(false);
export const jobsError = shallowRef('');

/** Past this many changed jobs at once, one reload is cheaper than reading each. */
const RELOAD_OVER = 50;
const TIMINGS_EVERY_MS = 3000;
let timingsReadAt = 0;
let timingsTimer: ReturnType<typeof setTimeout> | undefined;

async function reload(): Promise<void> {
  try {
    const [list, timed] = await Promise.all([api.jobs(), api.jobTimings()]);
    jobs.value = list;
    timings.value = new Map(timed.timings.map((t) => [t.jobId, t]));
    jobsLoaded.value = true;
    jobsError.value = '';
  } catch (error) {
    jobsError.value = (error as Error).message;
  }
}

async function refresh(ids: Set<string>): Promise<void> {
  if (ids.size > RELOAD_OVER) return reload();
  jobs.value = await readEachInto(
    () => jobs.value,
    ids,
    (id) => api.job(id),
    'start',
  );
  readTimingsSoon();
}

/** Start and end times change far less often than counts: read at most every few seconds, the last change included. */
function readTimingsSoon(): void {
  if (timingsTimer !== undefined) return;
  const wait = Math.max(0, timingsReadAt + TIMINGS_EVERY_MS - Date.now());
  timingsTimer = setTimeout(async () => {
    timingsTimer = undefined;
    timingsReadAt = Date.now();
    const timed = await api.jobTimings().catch(() => undefined);
    if (timed) timings.value = new Map(timed.timings.map((t) => [t.jobId, t]));
  }, wait);
}

let started = false;

/** Loads the jobs once and follows their changes from then on. */
export function useJobs(): void {
  if (started) return;
  started = true;
  const changed = makeBatcher(250, refresh);
  onFarmEvent((event) => {
    if (event.type === 'job') changed(event.jobId);
    // A task's new status changes its job's counts (progress events leave them as they are).
    else if (event.type === 'task' && event.progress === undefined) changed(event.jobId);
  });
  onResync(() => void reload());
  void reload();
}
