import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { startTestCluster } from '../../testing/cluster.js';
import { startTestManager, ProtocolWorker, type TestManager } from '../../testing/farm.js';
import { makeTempDir } from '../../testing/temp.js';
import { SUBMISSION_LIMITS } from './submission-guard.js';

let m: TestManager;
let shared = '';
const cleanups: Array<() => unknown> = [];
const t = { after: (fn: () => unknown) => cleanups.push(fn) };
before(async () => {
  const cluster = await startTestCluster(t);
  shared = join(makeTempDir(t, 'kiln-strict-'), 'farm');
  mkdirSync(shared);
  m = await startTestManager(t, cluster, { shared_storage_path: shared });
});
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

function assertError(response: { status: number; body: any }, status: number, field?: string, code?: string): void {
  assert.equal(response.status, status, JSON.stringify(response.body));
  assert.deepEqual(Object.keys(response.body ?? {}), ['error'], JSON.stringify(response.body));
  assert.equal(typeof response.body.error.code, 'string');
  assert.equal(typeof response.body.error.message, 'string');
  if (field !== undefined) assert.equal(response.body.error.field, field, JSON.stringify(response.body));
  if (code !== undefined) assert.equal(response.body.error.code, code, JSON.stringify(response.body));
}

const echo = { name: 'e', type: 'echo-sleep', settings: {} };
const jobCount = async (): Promise<number> => (await m.api('GET', '/jobs?limit=1')).body.total;
const basic = (text: string): Record<string, string> => ({
  authorization: `Basic ${Buffer.from(text).toString('base64')}`,
});

/** One raw HTTP exchange, for what fetch refuses to send; returns the status line's code and the body. */
function raw(text: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(new URL(m.url).port), '127.0.0.1', () => socket.write(text));
    let out = '';
    socket.on('data', (chunk) => (out += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => {
      const [head = '', body = ''] = out.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), body: JSON.parse(body) });
    });
  });
}

describe('identifiers that are not ids', () => {
  it('worker credentials that are not a UUID and token are 401, not 500', async () => {
    assertError(await m.api('POST', '/worker/task', undefined, basic('nope:x')), 401, 'authorization', 'unauthorized');
    assertError(await m.api('POST', '/worker/task', undefined, basic('\ud800:x')), 401, 'authorization');
    assertError(
      await m.api('POST', '/worker/task', undefined, {
        authorization: `Basic ${Buffer.from([0xff, 0x3a, 0x78]).toString('base64')}`,
      }),
      401,
    );
    assertError(
      await m.api('POST', '/worker/task', undefined, basic('00000000-0000-4000-8000-000000000000:bad token!')),
      401,
      'authorization',
    );
  });
  it('path parameters: not a UUID, not decodable, too long', async () => {
    assertError(await m.api('GET', '/tasks/12'), 400, 'id', 'invalid_request');
    assertError(await m.api('GET', '/tasks/%ED%A0%80'), 400, 'url', 'bad_url');
    assertError(await m.api('GET', '/jobs/%zz'), 400, 'url', 'bad_url');
    assertError(await m.api('GET', `/job-types/${'a'.repeat(1000)}`), 414, 'path', 'too_long');
    assertError(await m.api('GET', '/job-types/%00'), 400, 'name');
  });
});

describe('integers out of range and not integers', () => {
  it('query strings: decimal digits within the bounds only', async () => {
    for (const bad of ['99999999999999999999', '1e300', '1e3', '0x10', '1.5', 'NaN', '-1', ' 5', '']) {
      assertError(await m.api('GET', `/jobs?offset=${encodeURIComponent(bad)}`), 400, 'offset');
    }
    assertError(await m.api('GET', '/jobs?limit=1001'), 400, 'limit');
    assertError(await m.api('GET', '/tasks/00000000-0000-4000-8000-000000000000/log/tail?lines=1e30'), 400, 'lines');
    assertError(await m.api('GET', `/shaman/files/${'a'.repeat(64)}/99999999999999999999`), 400, 'size');
    assert.equal((await m.api('GET', '/jobs?offset=1000000000&limit=5')).status, 200);
  });
  it('bodies: integers beyond the column, numbers JSON overflows to Infinity', async () => {
    const worker = await new ProtocolWorker(m, 'ranges').register();
    assertError(
      await worker.call('POST', '/worker/tasks/00000000-0000-4000-8000-000000000000/update', { seq: 1e20 }),
      400,
      'seq',
    );
    assertError(
      await m.api('POST', '/jobs', '{"name":"a","type":"echo-sleep","settings":{"x":1e400}}'),
      400,
      'settings.x',
    );
    assertError(await m.api('POST', '/jobs', { ...echo, chunkSize: 1e20 }), 400, 'chunkSize');
  });
});

describe('NUL and lone surrogates anywhere', () => {
  it('in bodies (values and keys), query strings and header-borne credentials', async () => {
    const before = await jobCount();
    assertError(await m.api('POST', '/jobs', { ...echo, name: 'a\ud800b' }), 400, 'name', 'invalid_request');
    assertError(
      await m.api('POST', '/jobs', '{"name":"a","type":"echo-sleep","settings":{"\\udc00":1}}'),
      400,
      'settings',
    );
    assertError(await m.api('POST', '/jobs', { ...echo, metadata: { shot: 'x\u0000' } }), 400, 'metadata.shot');
    assertError(await m.api('GET', '/jobs?type=%00'), 400, 'type');
    assertError(await m.api('GET', '/jobs?tag=a%ED%A0%80'), 400);
    assert.equal(await jobCount(), before, 'nothing stored');
  });
  it("in headers: a control character is refused by the parser, in Kiln's shape", async () => {
    const answer = await raw(
      'GET /api/v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \u0001\r\nConnection: close\r\n\r\n',
    );
    assertError(answer, 400, 'headers', 'malformed_request');
  });
});

describe("Fastify's and Node's own refusals in Kiln's shape", () => {
  it('oversized headers are 431 too_large; a bad URL is 400 bad_url', async () => {
    assertError(
      await raw(`GET /api/v1/jobs HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20000)}\r\nConnection: close\r\n\r\n`),
      431,
      'headers',
      'too_large',
    );
    assertError(
      await raw('GET /api/v1/jobs/%ZZ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
      400,
      'url',
      'bad_url',
    );
  });
});

describe('no type coercion in bodies', () => {
  it('"name": 5, "priority": true, "tags": "x", "action": ["pause"] are 400 and store nothing', async () => {
    const before = await jobCount();
    assertError(await m.api('POST', '/jobs', { ...echo, name: 5 }), 400, 'name');
    assertError(await m.api('POST', '/jobs', { ...echo, priority: true }), 400, 'priority');
    assertError(await m.api('POST', '/jobs', { ...echo, priority: '60' }), 400, 'priority');
    assertError(await m.api('POST', '/jobs', { ...echo, metadata: { a: 5 } }), 400, 'metadata.a');
    assert.equal(await jobCount(), before);
    const job = (await m.api('POST', '/jobs', echo)).body;
    assertError(await m.api('POST', `/jobs/${job.id}/status`, { action: ['pause'] }), 400, 'action');
    assertError(await m.api('POST', `/jobs/${job.id}/priority`, { priority: '70' }), 400, 'priority');
    const worker = await new ProtocolWorker(m, 'coerce').register();
    assertError(await m.api('PUT', `/workers/${worker.id}/tags`, { tags: 'x' }), 400, 'tags');
    assertError(
      await m.api('PUT', `/workers/${worker.id}/sleep-schedule`, {
        enabled: 'true',
        days: [],
        start: '01:00',
        end: '02:00',
      }),
      400,
      'enabled',
    );
    assert.equal((await m.api('GET', `/jobs/${job.id}`)).body.priority, 50, 'unchanged');
  });
});

describe('frame ranges through the API', () => {
  const command = { name: 'c', type: 'command', settings: { argv: ['echo', '{frame}'] } };
  it('malformed lists are 400 on frames; 1-10, 1..10 and "1-4, 9" work', async () => {
    for (const frames of ['1,,2', '1 2', '1,2,', '1-10\n', '1,\n2'])
      assertError(await m.api('POST', '/jobs/check', { ...command, frames }), 400, 'frames', 'invalid_frames');
    for (const frames of ['1-10', '1..10', '1-4, 9', ' 1 - 3 , 10 '])
      assert.equal((await m.api('POST', '/jobs/check', { ...command, frames })).status, 200, frames);
  });
});

describe('sizes', () => {
  it('settings and metadata beyond their limits are 413 too_large naming the field, and store nothing', async () => {
    const before = await jobCount();
    const long = (n: number) => 'x'.repeat(n);
    const command = { name: 'c', type: 'command', frames: '1' };
    assertError(
      await m.api('POST', '/jobs', {
        ...command,
        settings: { argv: ['echo', long(SUBMISSION_LIMITS.settingsString + 1)] },
      }),
      413,
      'settings.argv.1',
      'too_large',
    );
    const many = Array.from({ length: 40 }, () => long(SUBMISSION_LIMITS.settingsString - 10));
    assertError(
      await m.api('POST', '/jobs', { ...command, settings: { argv: ['echo', ...many] } }),
      413,
      'settings',
      'too_large',
    );
    assertError(
      await m.api('POST', '/jobs', { ...echo, metadata: { note: long(SUBMISSION_LIMITS.metadataValue + 1) } }),
      413,
      'metadata.note',
      'too_large',
    );
    assertError(
      await m.api('POST', '/jobs', { ...echo, metadata: { [long(SUBMISSION_LIMITS.metadataKey + 1)]: 'x' } }),
      413,
      'metadata',
      'too_large',
    );
    const wide = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, long(4000)]));
    assertError(await m.api('POST', '/jobs', { ...echo, metadata: wide }), 413, 'metadata', 'too_large');
    assertError(await m.api('POST', '/jobs/check', { ...echo, metadata: wide }), 413, 'metadata', 'too_large');
    assert.equal(await jobCount(), before);
    assert.equal(
      (await m.api('POST', '/jobs', { ...echo, metadata: { note: long(SUBMISSION_LIMITS.metadataValue) } })).status,
      201,
      'at the limit is fine',
    );
  });

  it('lists page and stay small: jobs, tasks of a job, workers', async () => {
    const job = (
      await m.api('POST', '/jobs', {
        name: 'c',
        type: 'command',
        settings: { argv: ['echo'] },
        frames: '1-12',
        chunkSize: 1,
      })
    ).body;
    const page = await m.api('GET', `/jobs/${job.id}/tasks?limit=5&offset=10`);
    assert.equal(page.status, 200);
    assert.deepEqual(
      page.body.tasks.map((task: { index: number }) => task.index),
      [10, 11],
    );
    assert.equal(page.body.total, 12);
    assertError(await m.api('GET', `/jobs/${job.id}/tasks?limit=1001`), 400, 'limit');
    await new ProtocolWorker(m, 'pager-1').register();
    await new ProtocolWorker(m, 'pager-2').register();
    const workers = await m.api('GET', '/workers?limit=1');
    assert.equal(workers.body.workers.length, 1);
    assert.ok(workers.body.total >= 2);
    assertError(await m.api('GET', '/workers?offset=-1'), 400, 'offset');
    assert.equal((await m.api('GET', '/jobs?limit=1')).body.jobs.length, 1);
  });
});

describe('a submitted storage record is checked like the CLI makes it', () => {
  it('unknown mode, paths off shared storage, "..", relative, UNC, extra fields: 400 naming the field', async () => {
    const before = await jobCount();
    const good = { mode: 'direct', input: join(shared, 'proj', 'shot.blend'), effectivePath: join(shared, 'proj') };
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...good, mode: 'evil' }, 'storage.mode'],
      [{ ...good, input: '/etc/passwd' }, 'storage.input'],
      [{ ...good, effectivePath: `${shared}/../elsewhere` }, 'storage.effectivePath'],
      [{ ...good, input: 'proj/shot.blend' }, 'storage.input'],
      [{ ...good, input: '\\\\server\\share\\x' }, 'storage.input'],
      [{ ...good, extra: 1 }, 'storage.extra'],
      [{ ...good, mode: 'shaman', checkout: '../x' }, 'storage.checkout'],
      [{ ...good, files: -1 }, 'storage.files'],
    ];
    for (const [storage, field] of cases) assertError(await m.api('POST', '/jobs', { ...echo, storage }), 400, field);
    assert.equal(await jobCount(), before);
    assert.equal((await m.api('POST', '/jobs', { ...echo, storage: good })).status, 201);
  });
});
