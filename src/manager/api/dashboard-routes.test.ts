import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useFileFarm, ProtocolWorker, type TestManager } from '../../testing/farm.js';
import { createApiToken } from '../auth/secrets.js';
import { waitFor, SECOND } from '../../util/time.js';
import Fastify from 'fastify';
import { makeStaticHandler } from './static-files.js';

let m: TestManager;
useFileFarm({ before, after }, { open: false }, (farm) => ({ manager: m } = farm));

describe("the dashboard's API", () => {
  let token = '';
  let user: Record<string, string> = {};
  before(async () => {
    token = await createApiToken(m.services.db, 'dashboard');
    user = { authorization: `Bearer ${token}` };
  });

  it('says whether a token is needed and whether the one sent is accepted', async () => {
    assert.deepEqual((await m.api('GET', '/auth/status')).body, { open: false, authorized: false });
    assert.deepEqual((await m.api('GET', '/auth/status', undefined, user)).body, { open: false, authorized: true });
    const wrong = await m.api('GET', '/auth/status', undefined, { authorization: 'Bearer nope' });
    assert.deepEqual(wrong.body, { open: false, authorized: false });
  });

  it("records each run of a task on a worker: the job's runs, its timing, the farm's counts", async () => {
    const worker = await new ProtocolWorker(m, 'runner').register();
    const other = await new ProtocolWorker(m, 'other').register();
    const job = (await m.api('POST', '/jobs', { name: 'two', type: 'echo-sleep', settings: { tasks: 2 } }, user)).body;
    const first = await worker.next();
    assert.ok(first);
    await worker.fail(first.id); // soft-fails: another worker runs it again
    for (;;) {
      const task = await other.next(1000);
      if (!task) break;
      await other.complete(task.id);
    }
    const runs = await waitFor(
      async () => {
        const body = (await m.api('GET', `/jobs/${job.id}/runs`)).body;
        return body.runs.length === 3 && body.runs.every((r: any) => r.finishedAt) ? body.runs : undefined;
      },
      { timeoutMs: 10 * SECOND, what: 'three finished runs' },
    );
    assert.deepEqual(runs.map((r: any) => r.outcome).sort(), ['completed', 'completed', 'soft-failed']);
    assert.deepEqual(runs.map((r: any) => r.workerName).sort(), ['other', 'other', 'runner']);
    for (const run of runs) {
      assert.ok(Date.parse(run.finishedAt) >= Date.parse(run.startedAt));
    }
    const { timings } = (await m.api('GET', '/job-timings')).body;
    const timing = timings.find((t: any) => t.jobId === job.id);
    assert.ok(timing.startedAt && timing.lastFinishedAt);
    const counts = (await m.api('GET', '/farm')).body;
    assert.equal(counts.jobs.completed, 1);
    assert.equal(counts.tasks.completed, 2);
    assert.equal(counts.workers.awake, 2);
    assert.equal(counts.busyWorkers, 0);
    const history = (await m.api('GET', '/farm/history?minutes=10')).body;
    assert.ok(history.samples.length >= 1, 'the manager sampled its load when it started');
    assert.equal(
      history.finishedPerMinute.reduce((sum: number, m: any) => sum + m.completed, 0),
      2,
    );
    assert.equal((await m.api('GET', '/jobs/00000000-0000-4000-8000-000000000000/runs')).status, 404);
    assert.equal((await m.api('GET', '/farm/history?minutes=0')).status, 400);
  });

  it("serves a job's video once its video task completed, with byte ranges", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-video-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const output = join(dir, 'shot.mp4');
    const job = (
      await m.api(
        'POST',
        '/jobs',
        { name: 'video', type: 'frames-to-video', settings: { input: join(dir, 'frame_####.png'), output } },
        user,
      )
    ).body;
    assert.equal((await m.api('GET', `/jobs/${job.id}/video`)).status, 404, 'not made yet');
    const worker = await new ProtocolWorker(m, 'encoder', { types: ['video'] }).register();
    const task = await worker.next();
    assert.ok(task);
    // The worker "encoded" it: the manager reads the file the task's ffmpeg command names.
    writeFileSync(output, Buffer.from('0123456789abcdefghij'));
    await worker.complete(task.id);
    const whole = await fetch(`${m.url}/api/v1/jobs/${job.id}/video`);
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get('content-type'), 'video/mp4');
    assert.equal(await whole.text(), '0123456789abcdefghij');
    const part = await fetch(`${m.url}/api/v1/jobs/${job.id}/video`, { headers: { range: 'bytes=5-9' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), 'bytes 5-9/20');
    assert.equal(await part.text(), '56789');
    const tail = await fetch(`${m.url}/api/v1/jobs/${job.id}/video`, { headers: { range: 'bytes=-3' } });
    assert.equal(await tail.text(), 'hij');
    const outside = await fetch(`${m.url}/api/v1/jobs/${job.id}/video`, { headers: { range: 'bytes=50-' } });
    assert.equal(outside.status, 416);
    assert.equal(((await outside.json()) as any).error.field, 'range');
  });
});

describe('the dashboard files', () => {
  it('serves the page, its hashed assets for a year, deep links as the page, and keeps the API 404', async () => {
    const page = await fetch(`${m.url}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.equal(page.headers.get('cache-control'), 'no-cache');
    const html = await page.text();
    assert.match(html, /<div id="app">/);
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(script, 'the page loads a hashed script');
    const asset = await fetch(`${m.url}${script}`, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(asset.status, 200);
    assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(asset.headers.get('content-encoding'), 'gzip');
    assert.match(asset.headers.get('content-type') ?? '', /javascript/);
    const deep = await fetch(`${m.url}/jobs/some-job?status=failed`);
    assert.equal(deep.status, 200);
    assert.equal(await deep.text(), html);
    assert.equal((await fetch(`${m.url}/assets/missing-123.js`)).status, 404);
    const api = await fetch(`${m.url}/api/v1/nothing-here`);
    assert.equal(api.status, 404);
    assert.equal(((await api.json()) as any).error.code, 'no_such_endpoint');
    const outsideRoot = await fetch(`${m.url}/%2e%2e/%2e%2e/package.json`);
    assert.doesNotMatch(await outsideRoot.text(), /"name": "kiln"/);
  });

  it('says how to build the page when it is not built', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'kiln-no-dashboard-'));
    mkdirSync(join(empty, 'assets'));
    after(() => rmSync(empty, { recursive: true, force: true }));
    const app = Fastify();
    const serve = makeStaticHandler(empty);
    app.setNotFoundHandler(async (request, reply) => {
      if (!(await serve(request, reply))) return reply.status(404).send('not found');
      return reply;
    });
    after(() => app.close());
    const answer = await app.inject({ method: 'GET', url: '/jobs' });
    assert.equal(answer.statusCode, 503);
    const body = answer.body;
    assert.match(body, /npm run build/);
    // Built while the manager runs: a miss was not remembered, the page and a new file are served now.
    writeFileSync(join(empty, 'index.html'), '<div id="app"></div>');
    const built = await app.inject({ method: 'GET', url: '/jobs' });
    assert.equal(built.statusCode, 200);
    assert.equal(built.body, '<div id="app"></div>');
    assert.equal((await app.inject({ method: 'GET', url: '/robots.txt' })).body, '<div id="app"></div>');
    writeFileSync(join(empty, 'robots.txt'), 'User-agent: *');
    assert.equal((await app.inject({ method: 'GET', url: '/robots.txt' })).body, 'User-agent: *');
  });
});
