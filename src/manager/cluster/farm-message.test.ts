import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeFarmMessage, FarmMessageAssembler, MAX_PAYLOAD_BYTES, type FarmMessage } from './farm-message.js';

test('a small message travels in one payload and comes back whole', () => {
  const message: FarmMessage = {
    events: [{ type: 'job', jobId: 'j', status: 'queued', change: 'submitted' }],
    work: true,
    release: ['w1'],
  };
  const payloads = encodeFarmMessage('abc', 7, message);
  assert.equal(payloads.length, 1);
  assert.deepEqual(new FarmMessageAssembler().add(payloads[0]!), { sender: 'abc', message });
});

test('a large message with non-ASCII text is cut below the NOTIFY limit in bytes and put back together', () => {
  const lines = Array.from({ length: 400 }, (_, i) => `line ${i}: ßchärfe → 渲染 ✓ ${'x'.repeat(40)}`);
  const message: FarmMessage = { events: [{ type: 'log', jobId: 'j', taskId: 't', lines }], work: false, release: [] };
  const payloads = encodeFarmMessage('m1', 3, message);
  assert.ok(payloads.length > 3, `${payloads.length} payloads`);
  for (const payload of payloads) assert.ok(Buffer.byteLength(payload) <= MAX_PAYLOAD_BYTES);
  const assembler = new FarmMessageAssembler();
  const results = payloads.map((payload) => assembler.add(payload));
  assert.deepEqual(results.slice(0, -1), new Array(payloads.length - 1).fill(undefined));
  assert.deepEqual(results.at(-1), { sender: 'm1', message });
});

test('pieces of an unfinished message are dropped once stale; foreign payloads are ignored', () => {
  const message: FarmMessage = { events: [], work: true, release: ['y'.repeat(20_000)] };
  const payloads = encodeFarmMessage('m2', 1, message);
  const assembler = new FarmMessageAssembler(1000);
  assert.equal(assembler.add(payloads[0]!, 0), undefined);
  // Much later, a fresh copy of the message: the stale first piece was dropped, the new set completes.
  const later = encodeFarmMessage('m2', 2, message);
  let result: ReturnType<FarmMessageAssembler['add']>;
  for (const payload of later) result = assembler.add(payload, 5000);
  assert.deepEqual(result, { sender: 'm2', message });
  assert.equal(assembler.add('hello from someone else', 5000), undefined);
});
