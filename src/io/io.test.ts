import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { freePort } from '../testing/temp.js';
import { waitFor } from '../util/time.js';
import { IoPriority, IoPriorityGate, IoPriorityListener, queryIoStatus } from './index.js';

function startGate(t: TestContext, port: number, program = 'test gate'): Promise<IoPriorityGate> {
  const gate = new IoPriorityGate({ targets: [{ host: '127.0.0.1', port }], program });
  t.after(() => gate.close());
  return gate.start().then(() => gate);
}

function holder(t: TestContext, port: number, program: string): IoPriority {
  const io = new IoPriority({ port, listen: '127.0.0.1', program });
  t.after(() => io.close());
  return io;
}

/** A raw connection that collects what the listener sends, line by line. */
function rawClient(t: TestContext, port: number): Promise<{ socket: Socket; lines: string[]; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    t.after(() => socket.destroy());
    const lines: string[] = [];
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      lines.push(...parts);
    });
    const closed = new Promise<void>((done) => socket.on('close', () => done()));
    socket.once('connect', () => resolve({ socket, lines, closed }));
    socket.once('error', reject);
  });
}

describe('I/O priority', () => {
  it('no listener means no pause: ready() resolves at once', async (t) => {
    const gate = await startGate(t, await freePort());
    assert.equal(gate.paused, false);
    assert.equal(await gate.ready(), 0);
  });

  it('a port taken by something that accepts and says nothing does not stop background work', async (t) => {
    const accepted = new Set<Socket>();
    const silent = createServer((socket) => accepted.add(socket)); // accepts, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    t.after(() => {
      for (const socket of accepted) socket.destroy();
      silent.close();
    });
    const port = (silent.address() as AddressInfo).port;
    const gate = new IoPriorityGate({ targets: [{ host: '127.0.0.1', port }], program: 'test', connectTimeoutMs: 200 });
    t.after(() => gate.close());
    const hung = new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 10_000).unref());
    assert.notEqual(await Promise.race([gate.ready(), hung]), 'hung', 'ready() waited for an answer that never comes');
    assert.equal(gate.paused, false);
  });

  it('a hold pauses the gate until released; a gate started during a hold starts paused', async (t) => {
    const port = await freePort();
    const io = holder(t, port, 'playback');
    const early = await startGate(t, port);
    const hold = await io.hold();
    assert.equal(io.role, 'owner');
    await waitFor(() => early.paused, { what: 'the gate to pause' });
    const late = await startGate(t, port);
    assert.equal(late.paused, true, 'told the state on connect');
    let passed = false;
    const waiting = late.ready().then(() => (passed = true));
    const status = await waitFor(async () => {
      const answer = await queryIoStatus('127.0.0.1', port);
      return answer.listening && answer.clients.waiting === 1 ? answer : undefined;
    });
    assert.equal(status.held, true);
    assert.equal(status.clients.background, 2);
    assert.equal(status.holders[0]?.program, 'playback');
    assert.equal(passed, false);
    await hold.release();
    await waiting;
    assert.equal(late.paused, false);
    await waitFor(() => !early.paused, { what: 'the other gate to resume' });
  });

  it('two overlapping holds from two programs sharing the port: paused until both end', async (t) => {
    const port = await freePort();
    const first = holder(t, port, 'first');
    const second = holder(t, port, 'second');
    const gate = await startGate(t, port);
    const one = await first.hold();
    const two = await second.hold();
    assert.equal(first.role, 'owner');
    assert.equal(second.role, 'joined');
    await waitFor(() => gate.paused, { what: 'the pause' });
    const status = await queryIoStatus('127.0.0.1', port);
    assert.ok(status.listening);
    assert.deepEqual(status.holders.map((h) => h.program).sort(), ['first', 'second']);
    await one.release();
    // The second hold still stands: the listener says so to a fresh status query.
    const after = await queryIoStatus('127.0.0.1', port);
    assert.ok(after.listening && after.held);
    assert.equal(gate.paused, true);
    await two.release();
    await waitFor(() => !gate.paused, { what: 'the resume' });
  });

  it('when the owner of the port closes, a joined program takes the port over; its hold never lapses', async (t) => {
    const port = await freePort();
    const owner = holder(t, port, 'owner');
    const joined = holder(t, port, 'joined');
    await owner.open();
    const hold = await joined.hold();
    assert.equal(joined.role, 'joined');
    const gate = await startGate(t, port);
    assert.equal(gate.paused, true);
    const changes: boolean[] = [];
    gate.onChange((paused) => changes.push(paused));
    await owner.close();
    await waitFor(() => joined.role === 'owner', { what: 'the joined program to take the port over' });
    // The owner announced the hand-over, so the gate stayed paused while it reached the new owner.
    await waitFor(
      async () => {
        const status = await queryIoStatus('127.0.0.1', port);
        return status.listening && status.clients.background === 1;
      },
      { what: 'the gate to reconnect to the new owner' },
    );
    assert.deepEqual(changes, [], 'never resumed');
    await hold.release();
    await waitFor(() => !gate.paused, { what: 'the resume' });
    assert.deepEqual(changes, [false]);
  });

  it('garbage closes only its own connection, with an error line', async (t) => {
    const port = await freePort();
    const listener = new IoPriorityListener({ program: 'test' });
    await listener.listen(port, '127.0.0.1');
    t.after(() => listener.close());
    const gate = await startGate(t, port);
    listener.hold({ program: 'playback' });
    await waitFor(() => gate.paused);
    for (const garbage of [
      'this is not json\n',
      '[1,2]\n',
      '{"v":2,"type":"hold","id":"x"}\n',
      `${'x'.repeat(70_000)}`,
    ]) {
      const client = await rawClient(t, port);
      client.socket.write(garbage);
      await client.closed;
      assert.match(client.lines[0] ?? '', /"type":"state"/, 'told the state on connect');
      assert.match(client.lines.at(-1) ?? '', /"type":"error"/, garbage.slice(0, 40));
    }
    const hello = await rawClient(t, port);
    hello.socket.write('{"v":1,"type":"something-later","x":1}\n{"v":1,"type":"status"}\n');
    await waitFor(() => hello.lines.some((line) => line.includes('"type":"status"')), { what: 'a status answer' });
    assert.equal(hello.socket.destroyed, false, 'an unknown type is ignored, not an error');
    assert.equal(gate.paused, true, 'the other client never noticed');
    assert.equal(listener.status().clients.background, 2);
  });

  it('a client that asks without reading is dropped, and holds it sent after its drop do not stay', async (t) => {
    const port = await freePort();
    const listener = new IoPriorityListener({ program: 'test' });
    await listener.listen(port, '127.0.0.1');
    t.after(() => listener.close());
    const asker = await rawClient(t, port);
    asker.socket.pause(); // reads nothing: the answers pile up on the listener's side
    asker.socket.write('{"v":1,"type":"status"}\n'.repeat(200_000));
    const connected = (): number => listener.status().clients.background + listener.status().clients.foreground;
    await waitFor(() => connected() === 0, { what: 'the client that does not read to be dropped' });
    // Each hold sends every client the state with every holder: output grows faster than it is read.
    const holds = await rawClient(t, port);
    holds.socket.pause();
    const lines = Array.from({ length: 1000 }, (_, i) => `{"v":1,"type":"hold","id":"h${i}","program":"p"}`);
    holds.socket.write(`${lines.join('\n')}\n`);
    await waitFor(() => connected() === 0, { what: 'the holding client that does not read to be dropped' });
    await waitFor(() => !listener.held, { what: 'the holds of the dropped client to go' });
    assert.equal(listener.status().holders.length, 0);
  });

  it('serves 300 clients: every one pauses on a hold and resumes on release', async (t) => {
    const port = await freePort();
    const io = holder(t, port, 'playback');
    await io.open();
    const gates = await Promise.all(Array.from({ length: 300 }, (_, index) => startGate(t, port, `gate ${index}`)));
    const status = await queryIoStatus('127.0.0.1', port);
    assert.ok(status.listening);
    assert.equal(status.clients.background, 300);
    const hold = await io.hold();
    await waitFor(() => gates.every((gate) => gate.paused), { what: 'all 300 gates to pause' });
    const passed = gates.map((gate) => gate.ready());
    await hold.release();
    await Promise.all(passed);
    assert.ok(gates.every((gate) => !gate.paused));
  });

  it('a hold refused by a port that something else owns says so', async (t) => {
    const port = await freePort();
    const { createServer } = await import('node:net');
    const other = createServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    await new Promise<void>((resolve) => other.listen(port, '127.0.0.1', resolve));
    t.after(() => other.close());
    const io = holder(t, port, 'playback');
    await assert.rejects(io.hold(), /port \d+ is in use by something that is not a Kiln I\/O priority listener/);
  });
});
