import type { SleepSchedule, Worker } from '../../../src/contract/index.js';

/** The worker editor's form: tags as text, the sleep schedule as fields. */
export const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

export interface WorkerForm {
  tags: string;
  schedule: SleepSchedule;
}

export function formOf(worker: Worker): WorkerForm {
  return {
    tags: worker.tags.join(', '),
    schedule: worker.sleepSchedule
      ? { ...worker.sleepSchedule, days: [...worker.sleepSchedule.days] }
      : { enabled: false, days: [], start: '22:00', end: '07:00' },
  };
}

/** Tags typed as "a, b c": split on commas and spaces, blanks and repeats dropped. */
export function parseTags(text: string): string[] {
  return [
    ...new Set(
      text
        .split(/[,\s]+/)
        .map((tag) => tag.trim())
        .filter(Boolean),
    ),
  ];
}

/** "Sleeps 22:00-07:00 on weekdays" and the like, for the table. */
export function describeSchedule(schedule: SleepSchedule | null): string {
  if (!schedule?.enabled) return '';
  const days = schedule.days.length === 0 || schedule.days.length === 7 ? 'daily' : schedule.days.join(' ');
  return `sleeps ${schedule.start}–${schedule.end} ${days}`;
}
