import type { Logger } from 'pino';
import type { EventBus } from '../events/bus.js';
import type { SleepSchedule } from '../persistence/tables.js';
import { updateWorker } from '../persistence/workers.js';
import type { Db } from '../persistence/task-changes.js';

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const minutes = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Should a worker with this schedule be asleep at `now` (local time)? Windows may cross midnight. */
export function shouldSleep(schedule: SleepSchedule, now: Date): boolean {
  if (!schedule.enabled) return false;
  const start = minutes(schedule.start);
  const end = minutes(schedule.end);
  const current = now.getHours() * 60 + now.getMinutes();
  const today = DAYS[now.getDay()]!;
  const yesterday = DAYS[(now.getDay() + 6) % 7]!;
  const dayOk = (day: string): boolean => schedule.days.length === 0 || schedule.days.includes(day);
  if (start < end) return dayOk(today) && current >= start && current < end;
  // e.g. 22:00-06:00: tonight's window started today, or last night's started yesterday.
  return (dayOk(today) && current >= start) || (dayOk(yesterday) && current < end);
}

/** Asks scheduled workers to sleep or wake (after their current task) as the clock passes. */
export function startSleepScheduler(deps: { db: Db; bus: EventBus; log: Logger }, intervalMs: number): () => void {
  const check = async (): Promise<void> => {
    const rows = await deps.db.selectFrom('worker').selectAll().where('sleep_schedule', 'is not', null).where('status', 'in', ['awake', 'asleep']).execute();
    const now = new Date();
    for (const row of rows) {
      const asleep = shouldSleep(row.sleep_schedule as SleepSchedule, now);
      const wanted = asleep ? 'asleep' : 'awake';
      if (row.status !== wanted && row.status_requested !== wanted) {
        await updateWorker(deps.db, row.id, { statusRequested: wanted, lazy: true });
        deps.bus.publish({ type: 'worker', workerId: row.id, status: row.status, change: `sleep schedule: ${wanted}` });
      }
    }
  };
  const timer = setInterval(() => void check().catch((error: unknown) => deps.log.warn({ err: error }, 'sleep schedule check failed')), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
