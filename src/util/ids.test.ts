import { test } from 'node:test';
import assert from 'node:assert/strict';
import { timeOrderedUuids } from './ids.js';

const timeOrderedUuid = (now: number): string => timeOrderedUuids(1, now)[0]!;

test('timeOrderedUuids makes RFC 9562 version 7 UUIDs that sort by time and do not repeat', () => {
  const id = timeOrderedUuid(Date.UTC(2026, 11, 1));
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(
    parseInt(id.replace(/-/g, '').slice(0, 12), 16),
    Date.UTC(2026, 11, 1),
    'the first 48 bits are the time in ms',
  );
  assert.ok(
    timeOrderedUuid(1_000) < timeOrderedUuid(2_000) && timeOrderedUuid(2_000) < timeOrderedUuid(1_000_000_000_000),
  );
  const many = [...timeOrderedUuids(10_000, 5_000), ...timeOrderedUuids(10_000, 5_000)];
  for (const one of many) assert.match(one, /^00000000-1388-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(new Set(many).size, many.length);
});
