import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergeEntries } from './merge-entries.js';
import type { KnownEntry } from './types.js';

const UUID = '5f0c3a52-0000-4000-8000-000000000001';

function entry(overrides: Partial<KnownEntry>): KnownEntry {
  return {
    kind: 'manager',
    uuid: UUID,
    host: 'farm',
    serviceId: `${UUID}/manager/7780`,
    addresses: ['10.0.0.1'],
    ports: { http: 7780 },
    version: '0.1.0',
    startedAt: '2026-01-01T00:00:00.000Z',
    source: 'multicast',
    seenAt: 1000,
    ...overrides,
  };
}

describe('mergeEntries', () => {
  it('one service heard by multicast, DNS-SD and services.cfg is one row listing the three sources', () => {
    const rows = mergeEntries([
      [entry({ seenAt: 3000 })],
      [entry({ source: 'dns-sd', addresses: ['10.0.0.1', 'fd00::1'], seenAt: 2000 })],
      [entry({ source: 'services.cfg', seenAt: 500 })],
    ]);
    assert.equal(rows.length, 1);
    const [row] = rows;
    assert.deepEqual(row?.sources, ['multicast', 'dns-sd', 'services.cfg']);
    assert.equal(row?.source, 'multicast');
    assert.equal(row?.seenAt, 3000);
    assert.deepEqual(row?.seenAtBySource, { multicast: 3000, 'dns-sd': 2000, 'services.cfg': 500 });
    assert.deepEqual(row?.addresses, ['10.0.0.1', 'fd00::1']);
  });

  it('a hand-written services.cfg entry without UUID joins the service at the same address and port', () => {
    const rows = mergeEntries([
      [entry({ source: 'dns-sd' })],
      [entry({ source: 'services.cfg', uuid: '', serviceId: 'farm/manager/7780' })],
    ]);
    assert.deepEqual(
      rows.map((row) => row.sources),
      [['dns-sd', 'services.cfg']],
    );
    assert.equal(rows[0]?.uuid, UUID);
  });

  it('keeps apart other ports, other hosts, other kinds, and workers (no port)', () => {
    const worker = (name: string) =>
      entry({ kind: 'worker', ports: {}, serviceId: `${UUID}/worker/${name}`, meta: { name } });
    const rows = mergeEntries([
      [entry({}), entry({ kind: 'database', serviceId: `${UUID}/database/7533`, ports: { postgres: 7533 } })],
      [worker('w1'), worker('w2')],
      [entry({ source: 'dns-sd', ports: { http: 8000 }, serviceId: `${UUID}/manager/8000` })],
      [entry({ source: 'services.cfg', uuid: 'other', serviceId: 'other/manager/7780' })],
    ]);
    assert.equal(rows.length, 6);
    assert.deepEqual(
      rows.map((row) => row.kind),
      ['database', 'manager', 'manager', 'manager', 'worker', 'worker'],
    );
  });
});
