import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiClient } from './api-client.js';
import { ManagerUnreachableError } from './errors.js';
import { sendJson, startTinyServer } from './testing.js';

const SHA = 'a'.repeat(64);

/** `count` chunks of `text`, `gapMs` apart. */
async function* slowly(text: string, count: number, gapMs: number): AsyncGenerator<Uint8Array> {
  for (let index = 0; index < count; index++) {
    if (index > 0) await sleep(gapMs);
    yield Buffer.from(text);
  }
}

describe('streamed uploads', () => {
  it('stream the body with its headers; the time limit is one of silence, not of the whole upload', async (t) => {
    const server = await startTinyServer(t, (_request, response) => sendJson(response, 200, { result: 'stored' }));
    const client = new ApiClient({ baseUrl: server.url, apiToken: 'tok', timeoutMs: 1000 });
    const started = Date.now();
    // 8 chunks 200 ms apart: past the 1 s limit in all, never 1 s without progress (a timer late by
    // most of a second on a loaded machine still is not).
    const answer = await client.storage.upload(
      { sha256: SHA, size: 16, body: slowly('ab', 8, 200) },
      { canDefer: true },
    );
    assert.deepEqual(answer, { result: 'stored' });
    assert.ok(Date.now() - started >= 1400, 'the upload took longer than the limit');
    const request = server.requests[0];
    assert.equal(request?.method, 'PUT');
    assert.equal(request?.path, `/api/v1/shaman/files/${SHA}/16`);
    assert.equal(request?.headers['content-type'], 'application/octet-stream');
    assert.equal(request?.headers['x-shaman-can-defer-upload'], 'true');
    assert.equal(request?.headers.authorization, 'Bearer tok');
    assert.equal(request?.body.toString(), 'ab'.repeat(8));
  });

  it('give up on a stalled upload once nothing moved for the limit, as the manager being unreachable', async (t) => {
    const server = await startTinyServer(t, (_request, response) => sendJson(response, 200, { result: 'stored' }));
    const client = new ApiClient({ baseUrl: server.url, timeoutMs: 300 });
    async function* stalls(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('first chunk');
      // Unref'd: the test does not wait for it to end.
      await new Promise((resolve) => setTimeout(resolve, 5000).unref());
      yield Buffer.from('never sent');
    }
    const started = Date.now();
    await assert.rejects(client.storage.upload({ sha256: SHA, size: 21, body: stalls() }), (error: unknown) => {
      assert.ok(error instanceof ManagerUnreachableError, String(error));
      assert.match(error.message, /no progress within 300 ms/);
      return true;
    });
    assert.ok(Date.now() - started < 2000, `gave up after ${Date.now() - started} ms`);
  });
});
