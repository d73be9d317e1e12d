import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../util/clock.js';
import { announcePacket, answerPackets, decodePacket, encodePacket, MAX_PACKET_BYTES } from './protocol.js';
import { ServiceRegistry, type RegistryChange } from './registry.js';
import type { ServiceEntry } from './types.js';

const A = { uuid: '11111111-1111-4111-8111-111111111111', host: 'a', addresses: ['10.0.0.1'] };
const entry = (sender = A, port = 7780): ServiceEntry => ({
  kind: 'manager',
  uuid: sender.uuid,
  host: sender.host,
  serviceId: `${sender.uuid}/manager/${port}`,
  addresses: sender.addresses,
  ports: { http: port },
  version: '0.1.0',
  startedAt: new Date(0).toISOString(),
});

describe('discovery packets', () => {
  it('refuses oversized, malformed, foreign-version and spoofed datagrams', () => {
    const good = encodePacket(announcePacket('announce', A, [entry()], 1000));
    assert.equal(decodePacket(good, '10.0.0.1').ok, true);
    const reason = (data: Buffer, source = '10.0.0.1') => {
      const decoded = decodePacket(data, source);
      return decoded.ok ? 'ok' : decoded.reason;
    };
    assert.equal(reason(Buffer.alloc(MAX_PACKET_BYTES + 1, 0x20)), 'oversized');
    assert.equal(reason(Buffer.from('not json')), 'malformed');
    assert.equal(reason(Buffer.from('{"hello":1}')), 'malformed');
    assert.equal(reason(Buffer.from('[1,2]')), 'malformed');
    assert.equal(reason(Buffer.from(JSON.stringify({ kiln: 'discovery', v: 2, type: 'announce' }))), 'foreignVersion');
    assert.equal(reason(Buffer.from(JSON.stringify({ kiln: 'discovery', v: 1, type: 'announce' }))), 'malformed');
    assert.equal(reason(good, '10.0.0.9'), 'spoofed');
    const speaksForOther = announcePacket('announce', A, [entry({ ...A, uuid: 'other' })], 1000);
    assert.equal(reason(encodePacket(speaksForOther)), 'spoofed');
  });

  it('splits a large answer into datagrams under the cap', () => {
    const relayed = Array.from({ length: 300 }, (_, i) => ({ entry: entry(A, 1000 + i), ageMs: 0, periodMs: 1000 }));
    const packets = answerPackets(A, relayed);
    assert.ok(packets.length > 1);
    let total = 0;
    for (const packet of packets) {
      assert.ok(packet.length < MAX_PACKET_BYTES);
      const decoded = decodePacket(packet, '10.0.0.1');
      assert.ok(decoded.ok && decoded.packet.type === 'answer');
      if (decoded.ok && decoded.packet.type === 'answer') total += decoded.packet.entries.length;
    }
    assert.equal(total, 300);
  });
});

describe('service registry', () => {
  it('adds, refreshes, expires after three periods, and forgets at goodbye', () => {
    const clock = manualClock(new Date(1_000_000));
    const registry = new ServiceRegistry(clock);
    const changes: string[] = [];
    registry.on('change', (change: RegistryChange) =>
      changes.push(`${change.type}${change.type === 'disappeared' ? `:${change.reason}` : ''}`),
    );
    registry.applyAnnouncement(announcePacket('announce', A, [entry()], 1000), '10.0.0.1');
    registry.applyAnnouncement(announcePacket('announce', A, [entry()], 1000), '10.0.0.1');
    assert.deepEqual(changes, ['appeared']);
    clock.advance(2900);
    registry.expire();
    assert.equal(registry.list().length, 1);
    clock.advance(200);
    registry.expire();
    assert.equal(registry.list().length, 0);
    registry.applyAnnouncement(announcePacket('announce', A, [entry(A, 7781)], 1000), '10.0.0.1');
    registry.applyAnnouncement(announcePacket('goodbye', A, [entry(A, 7781)], 1000), '10.0.0.1');
    assert.deepEqual(changes, ['appeared', 'disappeared:expired', 'appeared', 'disappeared:goodbye']);
  });

  it('takes relayed entries with their age, newer news only', () => {
    const clock = manualClock(new Date(1_000_000));
    const registry = new ServiceRegistry(clock);
    registry.applyRelayed([{ entry: entry(), ageMs: 500, periodMs: 1000 }]);
    assert.equal(registry.list()[0]?.seenAt, 1_000_000 - 500);
    assert.equal(registry.list()[0]?.via, 'relay');
    registry.applyRelayed([{ entry: entry(), ageMs: 5000, periodMs: 1000 }]);
    assert.equal(registry.list()[0]?.seenAt, 1_000_000 - 500);
    registry.applyRelayed([{ entry: entry(A, 9), ageMs: 5000, periodMs: 1000 }]);
    assert.equal(registry.list().length, 1, 'an entry already expired is not taken');
  });

  it('flags one UUID announced by two hosts, including this one', () => {
    const clock = manualClock();
    const registry = new ServiceRegistry(clock, { uuid: A.uuid, host: 'a', addresses: ['10.0.0.1'] });
    const duplicates: string[][] = [];
    registry.on('duplicate', (d) => duplicates.push(d.hosts.map((h) => `${h.host}@${h.address}`)));
    registry.applyAnnouncement(announcePacket('announce', A, [entry()], 1000), '10.0.0.1');
    assert.equal(duplicates.length, 0);
    const clone = { ...A, host: 'b', addresses: ['10.0.0.2'] };
    registry.applyAnnouncement(announcePacket('announce', clone, [entry(clone, 7781)], 1000), '10.0.0.2');
    registry.applyAnnouncement(announcePacket('announce', clone, [entry(clone, 7781)], 1000), '10.0.0.2');
    assert.deepEqual(duplicates, [['a@10.0.0.1', 'b@10.0.0.2']]);
    assert.deepEqual(registry.duplicateUuids(), [A.uuid]);
    assert.ok(registry.list().every((known) => known.duplicateUuid));
  });
});
