import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  describeCounts,
  formatAge,
  formatDuration,
  formatFields,
  formatTable,
  plural,
  shortId,
  shortTaskId,
  statusWithActivity,
  truncate,
} from './format.js';

describe('format', () => {
  it('aligns table columns, right-aligns numbers, cuts long values and trims line ends', () => {
    const rows = [
      { name: 'short', done: '1/10' },
      { name: 'a much longer name than fits', done: '10/10' },
    ];
    const table = formatTable(
      [
        { header: 'NAME', value: (row: (typeof rows)[number]) => row.name, max: 12 },
        { header: 'DONE', value: (row: (typeof rows)[number]) => row.done, align: 'right' },
      ],
      rows,
    );
    assert.equal(table, ['NAME           DONE', 'short          1/10', 'a much long…  10/10'].join('\n'));
  });

  it('keeps a value with line breaks on one line', () => {
    assert.equal(formatTable([{ header: 'A', value: (row: string) => row }], ['one\ntwo']), 'A\none two');
  });

  it('aligns fields and leaves out undefined ones', () => {
    assert.equal(
      formatFields([
        ['ID', 'x'],
        ['Gone', undefined],
        ['Priority', '50'],
      ]),
      'ID:       x\nPriority: 50',
    );
  });

  it('ages, durations, plurals, short ids', () => {
    const now = Date.parse('2024-01-31T12:00:00Z');
    assert.equal(formatAge('2024-01-31T11:59:15Z', now), '45s');
    assert.equal(formatAge('2024-01-31T11:48:00Z', now), '12m');
    assert.equal(formatAge('2024-01-31T09:00:00Z', now), '3h');
    assert.equal(formatAge('2024-01-29T12:00:00Z', now), '2d');
    assert.equal(formatAge(null, now), '-');
    assert.equal(formatAge('2024-02-01T00:00:00Z', now), '0s', 'a clock ahead of ours is "now"');
    assert.equal(formatDuration(850), '850ms');
    assert.equal(formatDuration(12_400), '12s');
    assert.equal(formatDuration(185_000), '3m 05s');
    assert.equal(formatDuration(7_800_000), '2h 10m');
    assert.equal(plural(1, 'task'), '1 task');
    assert.equal(plural(0, 'task'), '0 tasks');
    assert.equal(shortId('3f2a1b2c-0000-4000-8000-000000000000'), '3f2a1b2c');
    assert.equal(
      shortTaskId('01a232e6-57a2-7f73-8b16-32086aabc5e6'),
      '…6aabc5e6',
      'the random end, not the shared timestamp',
    );
    assert.equal(truncate('abcdef', 4), 'abc…');
  });

  it('describes task counts and activity', () => {
    const counts = { queued: 6, active: 1, 'soft-failed': 0, failed: 2, completed: 3, canceled: 0, paused: 0 };
    assert.equal(describeCounts({ taskCounts: counts }), '3 completed, 1 active, 6 queued, 2 failed');
    assert.equal(statusWithActivity('active', 'rendering frame 12'), 'active (rendering frame 12)');
    assert.equal(statusWithActivity('queued', ''), 'queued');
    assert.equal(statusWithActivity('queued', 'queued'), 'queued');
  });
});
