import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shouldSleep } from './sleep-schedule.js';

test('sleep schedules: day windows, windows across midnight, chosen days', () => {
  // 2026-11-23 is a Monday.
  const at = (day: number, hh: number, mm = 0): Date => new Date(2026, 10, 23 + day, hh, mm);
  const office = { enabled: true, days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '18:00' };
  const night = { enabled: true, days: [], start: '22:00', end: '06:00' };
  const table: Array<[typeof office, Date, boolean, string]> = [
    [office, at(0, 10), true, 'Monday 10:00 is office time'],
    [office, at(0, 8, 59), false, 'before the window'],
    [office, at(0, 18), false, 'the end is exclusive'],
    [office, at(5, 10), false, 'Saturday is not a chosen day'],
    [night, at(0, 23), true, 'late evening'],
    [night, at(1, 5, 59), true, 'early morning, the window began the evening before'],
    [night, at(1, 6), false, 'morning'],
    [{ ...night, enabled: false }, at(0, 23), false, 'disabled'],
    [{ ...night, days: ['fri'] }, at(5, 3), true, 'Saturday 03:00 belongs to Friday night'],
    [{ ...night, days: ['fri'] }, at(4, 3), false, 'Friday 03:00 belongs to Thursday night'],
  ];
  for (const [schedule, when, expected, why] of table) assert.equal(shouldSleep(schedule, when), expected, why);
});
