import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { ApiClient } from './api-client.js';
import { ManagerUnreachableError } from './errors.js';
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
