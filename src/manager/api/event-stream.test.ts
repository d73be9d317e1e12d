import { it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { get, type IncomingMessage } from 'node:http';
import { setImmediate as turn } from 'node:timers/promises';
import { useFileCluster } from '../../testing/cluster.js';
import { startTestManager } from '../../testing/farm.js';
import { waitFor } from '../../util/time.js';
import { MAX_UNREAD_BYTES } from './event-stream.js';

const fileCluster = useFileCluster({ before, after });

const openStream = (url: string): Promise<IncomingMessage> =>
  new Promise((resolve, reject) => get(`${url}/api/v1/events`, resolve).on('error', reject));

it('an event stream client that stops reading is dropped once its buffer is full; the others read on', async (t) => {
  const m = await startTestManager(t, fileCluster());
  const { bus } = m.services;
  const baseline = bus.subscribers;

  const reader = await openStream(m.url);
  let received = '';
  reader.setEncoding('utf8').on('data', (text: string) => {
    received = (received + text).slice(-4096); // only the newest events matter here
  });
  const slow = await openStream(m.url);
  slow.pause(); // a real HTTP client that stops reading: the kernel's buffers fill, then the manager's
  t.after(() => {
    reader.destroy();
    slow.destroy();
  });
  await waitFor(() => bus.subscribers === baseline + 2, { what: 'both streams to subscribe' });

  const line = 'x'.repeat(64 * 1024);
  let published = 0;
  // Far more than the kernel's socket buffers and the per-client limit together, were nobody dropped.
  const ceiling = 512 * 1024 * 1024;
  while (bus.subscribers > baseline + 1 && published < ceiling) {
    bus.publish({ type: 'log', jobId: 'j', taskId: 't', lines: [line] });
    published += line.length;
    await turn(); // let the sockets move what they can
  }
  assert.equal(bus.subscribers, baseline + 1, `the slow client was dropped (after ${published} bytes published)`);
  assert.ok(published > MAX_UNREAD_BYTES, 'not before its buffer was full');

  // The reading client is still served.
  bus.publish({ type: 'job', jobId: 'j', status: 'active', change: 'after the drop' });
  await waitFor(() => received.includes('after the drop'), { what: 'the reading client to get the next event' });

  // The slow client finds its stream ended when it reads again (it reconnects and re-reads state).
  const ended = new Promise<void>((resolve) => slow.once('close', () => resolve()));
  slow.on('error', () => undefined).resume();
  await ended;
});
