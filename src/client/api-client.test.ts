import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient, apiBaseUrl } from './api-client.js';
import { ApiError, ManagerUnreachableError, isRetryable, parseRetryAfter } from './errors.js';
import { sendError, sendJson, startTinyServer } from './testing.js';

const TASK_ID = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
const WORKER = { id: '0b6c2d6e-5d0c-4d57-9d6b-3f0e6e1a2b3c', token: 's3cret-token' };

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected the call to fail');
}

describe('apiBaseUrl', () => {
  it('adds /api/v1 once and drops trailing slashes', () => {
    assert.equal(apiBaseUrl('http://farm:7780'), 'http://farm:7780/api/v1');
    assert.equal(apiBaseUrl('http://farm:7780/'), 'http://farm:7780/api/v1');
    assert.equal(apiBaseUrl('http://farm:7780/api/v1/'), 'http://farm:7780/api/v1');
    assert.equal(apiBaseUrl('farm:7780'), 'http://farm:7780/api/v1');
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    assert.equal(parseRetryAfter('5'), 5);
    assert.equal(parseRetryAfter(null), undefined);
    assert.equal(parseRetryAfter('Thu, 01 Jan 1970 00:00:10 GMT', 0), 10);
    assert.equal(parseRetryAfter('soon'), undefined);
  });
});

describe('ApiClient error mapping', () => {
  it('maps a 4xx JSON error body to ApiError with status, code, message and field', async (t) => {
    const server = await startTinyServer(t, (_request, response) =>
      sendError(response, 412, 'stale_etag', 'the job type changed since you built these settings', {
        field: 'typeEtag',
      }),
    );
    const client = new ApiClient({ baseUrl: server.url, apiToken: 'tok' });
    const error = await caught(client.submitJob({ name: 'x', type: 'render', typeEtag: 'old' }));
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 412);
    assert.equal(error.code, 'stale_etag');
    assert.equal(error.message, 'the job type changed since you built these settings');
    assert.equal(error.field, 'typeEtag');
    assert.equal(error.retryAfter, undefined);
    assert.equal(isRetryable(error), false);
    assert.equal(server.requests[0]?.path, '/api/v1/jobs');
    assert.equal(server.requests[0]?.headers.authorization, 'Bearer tok');
    assert.deepEqual(server.requests[0]?.json, { name: 'x', type: 'render', typeEtag: 'old' });
  });

  it('maps 503 with Retry-After to a retryable ApiError carrying the wait', async (t) => {
    const server = await startTinyServer(t, (_request, response) =>
      sendError(response, 503, 'database_unavailable', 'the database is down', { headers: { 'retry-after': '7' } }),
    );
    const client = new ApiClient({ baseUrl: server.url, worker: WORKER });
    const error = await caught(client.workerState());
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 503);
    assert.equal(error.code, 'database_unavailable');
    assert.equal(error.retryAfter, 7);
    assert.equal(error.retryAfterMs, 7000);
    assert.equal(isRetryable(error), true);
  });

  it('keeps a non-JSON error body readable', async (t) => {
    const server = await startTinyServer(
      t,
      (_request, response) =>
        void response.writeHead(502, { 'content-type': 'text/plain' }).end('bad gateway from proxy'),
    );
    const client = new ApiClient({ baseUrl: server.url });
    const error = await caught(client.version());
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 502);
    assert.equal(error.code, 'http_502');
    assert.match(error.message, /bad gateway from proxy/);
  });

  it('reports a refused connection as ManagerUnreachableError, not as an HTTP error', async (t) => {
    const server = await startTinyServer(t, (_request, response) => sendJson(response, 200, {}));
    await server.stop();
    const client = new ApiClient({ baseUrl: server.url });
    const error = await caught(client.listJobs());
    assert.ok(error instanceof ManagerUnreachableError, String(error));
    assert.ok(!(error instanceof ApiError));
    assert.match(error.message, /ECONNREFUSED/);
    assert.equal(isRetryable(error), true);
  });

  it('reports no answer within the time limit as unreachable, and a caller abort as an abort', async (t) => {
    const server = await startTinyServer(t, () => undefined); // never answers
    const slow = new ApiClient({ baseUrl: server.url, timeoutMs: 200 });
    const timedOut = await caught(slow.version());
    assert.ok(timedOut instanceof ManagerUnreachableError, String(timedOut));

    const client = new ApiClient({ baseUrl: server.url, timeoutMs: 10_000 });
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 100);
    const aborted = await caught(client.version({ signal: controller.signal }));
    assert.ok(aborted instanceof Error);
    assert.equal(aborted.name, 'AbortError');
    assert.ok(Date.now() - started < 2000);
  });
});

describe('ApiClient worker side', () => {
  it('sends Basic credentials, and the long poll tells task, nothing and status change apart', async (t) => {
    const answers: Array<[number, unknown]> = [
      [
        200,
        {
          id: TASK_ID,
          jobId: TASK_ID,
          jobName: 'j',
          jobType: 'echo-sleep',
          name: 't',
          type: 'misc',
          priority: 50,
          commands: [],
        },
      ],
      [204, undefined],
      [423, { statusRequested: 'asleep', lazy: false }],
    ];
    const server = await startTinyServer(t, (_request, response) => {
      const [status, body] = answers.shift() ?? [500, undefined];
      sendJson(response, status, body);
    });
    const client = new ApiClient({ baseUrl: server.url, worker: WORKER });
    const first = await client.requestTask({ waitMs: 1000 });
    assert.equal(first.kind, 'task');
    assert.equal(first.kind === 'task' && first.task.id, TASK_ID);
    assert.deepEqual(await client.requestTask({ waitMs: 1000 }), { kind: 'none' });
    assert.deepEqual(await client.requestTask({ waitMs: 1000 }), {
      kind: 'status-change',
      state: { statusRequested: 'asleep', lazy: false },
    });

    const request = server.requests[0];
    assert.equal(request?.method, 'POST');
    assert.equal(request?.path, '/api/v1/worker/task');
    assert.equal(request?.query.get('waitMs'), '1000');
    const basic = Buffer.from(`${WORKER.id}:${WORKER.token}`).toString('base64');
    assert.equal(request?.headers.authorization, `Basic ${basic}`);
  });

  it('registers without credentials, uploads previews as raw images and maps 409 on updates', async (t) => {
    const server = await startTinyServer(t, (request, response) => {
      if (request.path.endsWith('/worker/register')) return sendJson(response, 201, { id: WORKER.id, token: 'new' });
      if (request.path.endsWith('/preview')) return sendJson(response, 204);
      if (request.path.endsWith('/update'))
        return sendError(response, 409, 'not_your_task', 'another worker has this task');
      return sendJson(response, 404);
    });
    const client = new ApiClient({ baseUrl: server.url, worker: WORKER });
    const registered = await client.registerWorker({
      secret: 'farm',
      name: 'w1',
      platform: 'linux',
      supportedTaskTypes: ['misc'],
    });
    assert.deepEqual(registered, { id: WORKER.id, token: 'new' });
    assert.equal(server.requests[0]?.headers.authorization, undefined);

    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
    await client.uploadPreview(TASK_ID, png, 'image/png');
    assert.equal(server.requests[1]?.headers['content-type'], 'image/png');
    assert.deepEqual([...(server.requests[1]?.body ?? [])], [...png]);

    const error = await caught(client.updateTask(TASK_ID, { progress: 0.5, seq: 1 }));
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 409);
    assert.equal(error.code, 'not_your_task');
  });

  it('passes list queries and reads the plain-text log', async (t) => {
    const server = await startTinyServer(t, (request, response) => {
      if (request.path.endsWith('/log'))
        return void response.writeHead(200, { 'content-type': 'text/plain' }).end('line 1\nline 2\n');
      return sendJson(response, 200, { jobs: [], total: 0 });
    });
    const client = new ApiClient({ baseUrl: `${server.url}/api/v1/` });
    assert.deepEqual(await client.listJobs({ status: 'active,queued', limit: 5 }), { jobs: [], total: 0 });
    assert.equal(server.requests[0]?.query.get('status'), 'active,queued');
    assert.equal(server.requests[0]?.query.get('limit'), '5');
    assert.equal(server.requests[0]?.query.has('offset'), false);
    assert.equal(await client.taskLog(TASK_ID), 'line 1\nline 2\n');
    assert.equal(server.requests[1]?.path, `/api/v1/tasks/${TASK_ID}/log`);
  });
});
