import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useFileFarm, ProtocolWorker, type TestManager } from '../../testing/farm.js';
import sharp from 'sharp';

let m: TestManager;
useFileFarm({ before, after }, { open: false }, (farm) => ({ manager: m } = farm));

/** The error contract: `{ error: { code, message, field } }`, with the field when one is at fault. */
function assertError(response: { status: number; body: any }, status: number, field?: string, message?: RegExp): void {
  assert.equal(response.status, status, JSON.stringify(response.body));
  assert.deepEqual(Object.keys(response.body ?? {}), ['error'], JSON.stringify(response.body));
  assert.match(response.body.error.code, /^[a-z_]+$/);
  assert.ok(typeof response.body.error.message === 'string' && response.body.error.message.length > 0);
  assert.ok(!/\n\s+at /.test(response.body.error.message), 'no stack trace');
  if (field) assert.equal(response.body.error.field, field, JSON.stringify(response.body));
  if (message) assert.match(response.body.error.message, message);
}

describe('bad input gets a 4xx naming the field, never a 5xx', () => {
  let token = '';
  before(async () => {
    const { createApiToken } = await import('../auth/secrets.js');
    token = await createApiToken(m.services.db, 'test');
  });
  const submit = (body: unknown) => m.api('POST', '/jobs', body, { authorization: `Bearer ${token}` });
  const render = { name: 'r', type: 'render', settings: { output: '/tmp/kiln-never' } };

  it('refuses mutations without an API token', async () => {
    assertError(await m.api('POST', '/jobs', render), 401, undefined, /API token/);
  });

  it('malformed JSON', async () => {
    assertError(
      await m.api('POST', '/jobs', '{"name": "x",', { authorization: `Bearer ${token}` }),
      400,
      'body',
      /not valid JSON/,
    );
  });

  it('unknown job type, missing and mistyped settings', async () => {
    assertError(await submit({ ...render, type: 'nope' }), 400, 'type', /unknown job type "nope"/);
    assertError(
      await submit({ name: 'r', type: 'render', settings: {}, frames: '1-2' }),
      400,
      'settings.output',
      /required/,
    );
    assertError(
      await submit({ ...render, frames: '1', settings: { ...render.settings, width: 'wide' } }),
      400,
      'settings.width',
    );
    assertError(await submit({ type: 'render' }), 400, 'name', /required/);
    assertError(
      await submit({ ...render, frames: '1', settings: { output: 'renders/shot1' } }),
      400,
      'settings.output',
      /relative path/,
    );
  });

  it('NUL characters and absurdly deep nesting are refused, not passed to the database', async () => {
    assertError(await submit({ ...render, name: 'a\u0000b', frames: '1' }), 400, 'name', /NUL character/);
    assertError(
      await submit({ ...render, frames: '1', settings: { ...render.settings, output: '/tmp/x\u0000' } }),
      400,
      'settings.output',
      /NUL/,
    );
    // Raw text: the test's own JSON.stringify could not build something this deep.
    const deep = `{"name":"r","type":"render","frames":"1","settings":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}`;
    assertError(await submit(deep), 400, ['settings', ...Array<string>(31).fill('a')].join('.'), /deeper than 32/);
    const listed = await m.api('GET', '/jobs?status=queued%00');
    assert.equal(listed.status, 400, JSON.stringify(listed.body));
    assert.equal((await m.api('GET', '/jobs')).status, 200, 'the manager is fine');
  });

  it('frame ranges: backwards, not numbers, empty; chunk 0; priority 101', async () => {
    assertError(await submit({ ...render, frames: '10-1' }), 400, 'frames', /backwards/);
    assertError(await submit({ ...render, frames: 'abc' }), 400, 'frames');
    assertError(await submit({ ...render, frames: '' }), 400, 'frames');
    assertError(await submit({ ...render, frames: '1-10', chunkSize: 0 }), 400, 'chunkSize');
    assertError(await submit({ ...render, frames: '1-10', priority: 101 }), 400, 'priority');
  });

  it('a stale job type etag is refused with 412', async () => {
    assertError(await submit({ ...render, frames: '1', typeEtag: 'old' }), 412, 'typeEtag');
    const jobs = await m.api('GET', '/jobs');
    assert.equal(jobs.body.total, 0, 'none of the refused submissions stored anything');
  });

  it('unknown ids and malformed ids', async () => {
    assertError(await m.api('GET', '/jobs/00000000-0000-4000-8000-000000000000'), 404, 'id');
    assertError(await m.api('GET', '/tasks/00000000-0000-4000-8000-000000000000'), 404, 'id');
    assertError(await m.api('GET', '/workers/00000000-0000-4000-8000-000000000000'), 404, 'id');
    assertError(await m.api('GET', '/jobs/not-a-uuid'), 400, 'id');
    assertError(await m.api('GET', '/job-types/nope'), 404, 'name');
  });

  it('worker calls without credentials get 401; previews over 25 MiB get 413, other types 415', async () => {
    assertError(await m.api('POST', '/worker/task'), 401);
    assertError(
      await m.api('POST', '/worker/register', {
        secret: 'wrong',
        name: 'x',
        platform: 'linux',
        supportedTaskTypes: ['render'],
      }),
      401,
      'secret',
    );
    const worker = await new ProtocolWorker(m, 'previewer').register();
    const { id: jobId } = (await submit({ name: 'e', type: 'echo-sleep', settings: {} })).body;
    const held = (await worker.next())!;
    assert.equal(held.jobId, jobId);
    const post = (body: Buffer | string, type: string) =>
      fetch(`${m.url}/api/v1/worker/tasks/${held.id}/preview`, {
        method: 'POST',
        headers: { ...worker.auth, 'content-type': type },
        body,
      });
    const png = await sharp({ create: { width: 64, height: 36, channels: 3, background: '#336699' } })
      .png()
      .toBuffer();
    assert.equal((await post(png, 'image/png')).status, 204);
    const preview = await fetch(`${m.url}/api/v1/jobs/${jobId}/preview?size=small`);
    assert.equal(preview.headers.get('content-type'), 'image/jpeg');
    const big = await post(Buffer.alloc(26 * 1024 * 1024), 'image/png');
    assertError({ status: big.status, body: await big.json() }, 413, undefined, /25 MiB|too large/i);
    const text = await post('hello', 'text/plain');
    assertError({ status: text.status, body: await text.json() }, 415, 'content-type', /image\/png/);
    const still = await fetch(`${m.url}/api/v1/jobs/${jobId}/preview?size=small`);
    assert.equal(still.status, 200, 'the refused previews did not replace the stored one');
  });

  it('the OpenAPI document describes the API', async () => {
    const doc = await m.api('GET', '/openapi.json');
    assert.equal(doc.status, 200);
    assert.ok(doc.body.paths['/api/v1/jobs']);
    assert.ok(doc.body.paths['/api/v1/worker/task']);
  });
});
