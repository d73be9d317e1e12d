import type { SleepSchedule } from '../persistence/schema/tables.js';

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** The schedule's name of day `index` (0 is Sunday, as Date.getDay() counts). */
function dayName(index: number): string {
  const day = DAYS[index];
  if (day === undefined) throw new Error(`there is no day ${index} in a week`);
  return day;
}

const minutes = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Should a worker with this schedule be asleep at `now` (local time)? Windows may cross midnight. */
export function shouldSleep(schedule: SleepSchedule, now: Date): boolean {
  if (!schedule.enabled) return false;
  const start = minutes(schedule.start);
  const end = minutes(schedule.end);
  const current = now.getHours() * 60 + now.getMinutes();
  const today = dayName(now.getDay());
  const yesterday = dayName((now.getDay() + 6) % 7);
  const dayOk = (day: string): boolean => schedule.days.length === 0 || schedule.days.includes(day);
  if (start < end) return dayOk(today) && current >= start && current < end;
  // e.g. 22:00-06:00: tonight's window started today, or last night's started yesterday.
  return (dayOk(today) && current >= start) || (dayOk(yesterday) && current < end);
}

/** The status a schedule asks for at `now`; undefined when it is switched off. */
export function scheduledStatus(schedule: SleepSchedule, now: Date): 'asleep' | 'awake' | undefined {
  if (!schedule.enabled) return undefined;
  return shouldSleep(schedule, now) ? 'asleep' : 'awake';
}
