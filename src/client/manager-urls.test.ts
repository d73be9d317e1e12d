import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { ApiClient } from './api-client.js';
import { createServer as createNetServer, type Socket } from 'node:net';
import { ManagerUnreachableError, mayHaveReachedManager } from './errors.js';
import { freePort } from '../testing/temp.js';

type After = { after: (fn: () => unknown) => void };

/** A real HTTP server on loopback answering like a manager; `handle` may override an answer. */
async function fakeManager(
  t: After,
  name: string,
  handle?: (request: IncomingMessage, response: ServerResponse) => boolean,
): Promise<{ url: string; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer((request, response) => {
    hits.push(`${request.method} ${request.url}`);
    if (handle?.(request, response)) return;
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ name: 'kiln', version: name, apiVersion: 1 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, hits };
}

test('a client given several managers moves past one that refuses connections, and stays on the one that answers', async (t) => {
  const dead = `http://127.0.0.1:${await freePort()}`; // nothing listens there
  const live = await fakeManager(t, 'b');
  const client = new ApiClient({ baseUrl: `${dead}, ${live.url}` });
  assert.deepEqual(client.managers.all, [`${dead}/api/v1`, `${live.url}/api/v1`]);
  assert.equal((await client.version()).version, 'b');
  assert.equal(client.baseUrl, `${live.url}/api/v1`);
  // A POST the refusing manager never saw goes to the next at once too.
  await client
    .registerWorker({ name: 'w', platform: 'linux', supportedTaskTypes: ['misc'], secret: 's' })
    .catch(() => 0);
  assert.ok(live.hits.includes('POST /api/v1/worker/register'), live.hits.join('\n'));
});

test('a POST whose connection breaks is not sent twice: it fails, and the next call goes to the next manager', async (t) => {
  const breaking = await fakeManager(t, 'a', (request, response) => {
    if (request.method !== 'POST') return false;
    response.socket?.destroy(); // the manager died while the request was in flight
    return true;
  });
  const live = await fakeManager(t, 'b');
  const client = new ApiClient({ baseUrl: [breaking.url, live.url] });
  await assert.rejects(
    client.registerWorker({ name: 'w', platform: 'linux', supportedTaskTypes: ['misc'], secret: 's' }),
    ManagerUnreachableError,
  );
  assert.equal(live.hits.length, 0, 'the POST went to one manager only');
  assert.equal((await client.version()).version, 'b');
});

test('a GET whose connection breaks is asked of the next manager at once; with all away, the error names the last', async (t) => {
  const breaking = await fakeManager(t, 'a', (_request, response) => {
    response.socket?.destroy();
    return true;
  });
  const live = await fakeManager(t, 'b');
  assert.equal((await new ApiClient({ baseUrl: [breaking.url, live.url] }).version()).version, 'b');

  const away = [`http://127.0.0.1:${await freePort()}`, `http://127.0.0.1:${await freePort()}`];
  const client = new ApiClient({ baseUrl: away.join(',') });
  await assert.rejects(client.version(), ManagerUnreachableError);
  assert.throws(() => new ApiClient({ baseUrl: ' , ' }), TypeError);
});

/** A real TCP server that accepts connections and never answers, as a stopped (SIGSTOP) manager does. */
async function hungManager(t: After): Promise<{ url: string; connections: () => number }> {
  const sockets: Socket[] = [];
  const server = createNetServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise((resolve) => server.close(resolve));
  });
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, connections: () => sockets.length };
}

const REGISTRATION = { name: 'w', platform: 'linux' as const, supportedTaskTypes: ['misc'], secret: 's' };

test('a manager that accepts connections but never answers is passed over once it does not answer a probe either; later calls go to the next first', async (t) => {
  const hung = await hungManager(t);
  const live = await fakeManager(t, 'b');
  const passedOver: Array<{ manager: string; reason: string; next: string | undefined }> = [];
  const client = new ApiClient({
    baseUrl: [hung.url, live.url],
    firstAnswerMs: 200,
    observer: { passedOver: (event) => passedOver.push(event) },
  });
  assert.equal((await client.version()).version, 'b');
  assert.equal(passedOver.length, 1);
  assert.equal(passedOver[0]?.manager, `${hung.url}/api/v1`);
  assert.equal(passedOver[0]?.next, `${live.url}/api/v1`);
  assert.match(passedOver[0]?.reason ?? '', /^no answer within \d+ ms, nor to GET \/version within 200 ms/);
  // The call and its probe reached it; the next call goes to the manager that answers, not to the hung one.
  const connections = hung.connections();
  assert.ok(connections >= 2, `${connections} connections`);
  await client.version();
  assert.deepEqual(live.hits, ['GET /api/v1/version', 'GET /api/v1/version']);
  assert.equal(hung.connections(), connections);
});

test('a POST the hung manager may have acted on is not sent elsewhere: it fails, and the next call goes to the next manager', async (t) => {
  const hung = await hungManager(t);
  const live = await fakeManager(t, 'b');
  const client = new ApiClient({ baseUrl: [hung.url, live.url], firstAnswerMs: 200 });
  const error = await client.registerWorker(REGISTRATION).catch((caught: unknown) => caught);
  assert.ok(error instanceof ManagerUnreachableError, String(error));
  assert.ok(mayHaveReachedManager(error), 'a connection was made: the outcome is unknown');
  assert.match(error.message, /nor to GET \/version/);
  assert.equal(live.hits.length, 0, 'the POST went to one manager only');
  assert.equal((await client.version()).version, 'b');
});

test('a long poll that waits on purpose keeps waiting while its manager answers the probes; with one manager there are none', async (t) => {
  const slowPoll = (request: IncomingMessage, response: ServerResponse): boolean => {
    if (request.method !== 'POST') return false;
    setTimeout(() => response.writeHead(204).end(), 900);
    return true;
  };
  const waiting = await fakeManager(t, 'a', slowPoll);
  const other = await fakeManager(t, 'b');
  const passedOver: string[] = [];
  const client = new ApiClient({
    baseUrl: [waiting.url, other.url],
    worker: { id: 'w', token: 't' },
    firstAnswerMs: 200,
    probeIntervalMs: 300,
    observer: { passedOver: (event) => passedOver.push(event.manager) },
  });
  assert.deepEqual(await client.requestTask({ waitMs: 900 }), { kind: 'none' });
  assert.deepEqual(passedOver, []);
  assert.equal(other.hits.length, 0);
  const probes = waiting.hits.filter((hit) => hit === 'GET /api/v1/version').length;
  assert.ok(probes >= 2, `asked whether it is alive at 200 ms and every 300 ms after: ${waiting.hits.join(', ')}`);

  const alone = await fakeManager(t, 'a', slowPoll);
  const single = new ApiClient({ baseUrl: alone.url, worker: { id: 'w', token: 't' }, firstAnswerMs: 200 });
  assert.deepEqual(await single.requestTask({ waitMs: 900 }), { kind: 'none' });
  assert.deepEqual(alone.hits, ['POST /api/v1/worker/task?waitMs=900'], 'no other manager to go to: no probe');
});
