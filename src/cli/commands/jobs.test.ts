import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ApiClient, Job } from '../../client/index.js';
import type { TestCluster } from '../../testing/cluster.js';
import { startTestManager, useFileFarm, ProtocolWorker, type TestManager } from '../../testing/farm.js';
import { runKiln, type CliResult, assertOneLineError } from '../../testing/cli.js';
import { makeTempDir } from '../../testing/temp.js';
import { resolveJobId } from './jobs.js';

let cluster: TestCluster;
let m: TestManager;
let home: string;
useFileFarm({ before, after }, {}, (farm) => ({ cluster, manager: m, home } = farm));

const kiln = (args: string[], env: Record<string, string> = {}, manager: TestManager = m): Promise<CliResult> =>
  runKiln(args, { env: { KILN_MANAGER: manager.url, KILN_HOME: home, KILN_TOKEN: '', ...env } });

async function submit(manager: TestManager, body: Record<string, unknown> = {}): Promise<Job> {
  const response = await manager.api('POST', '/jobs', { name: 'job', type: 'echo-sleep', settings: {}, ...body });
  assert.equal(response.status, 201, JSON.stringify(response.body));
  return response.body;
}
const fetchJob = async (id: string): Promise<Job> => (await m.api('GET', `/jobs/${id}`)).body;

describe('job ids: full, or a unique prefix of 4+ characters', () => {
  const fakeJob = (id: string, name = id): Job => ({ id, name }) as Job;
  const ids = [
    'abcd1111-0000-4000-8000-000000000000',
    'abcd2222-0000-4000-8000-000000000000',
    'ef012345-0000-4000-8000-000000000000',
  ];
  const listing = (jobs: Job[], pageSize = 1000): ApiClient =>
    ({
      listJobs: async (query: { limit?: number; offset?: number }) => {
        const offset = query.offset ?? 0;
        return { jobs: jobs.slice(offset, offset + Math.min(pageSize, query.limit ?? 100)), total: jobs.length };
      },
    }) as unknown as ApiClient;
  const api = listing(ids.map((id) => fakeJob(id)));

  it('resolves prefixes, and full ids without asking', async () => {
    assert.equal(await resolveJobId(api, 'ef01'), ids[2]);
    assert.equal(await resolveJobId(api, 'ABCD1'), ids[0]);
    assert.equal(await resolveJobId({} as ApiClient, ids[1]!.toUpperCase()), ids[1]);
  });

  it('refuses ambiguous, unknown, short and malformed ones', async () => {
    await assert.rejects(
      resolveJobId(api, 'abcd'),
      /ambiguous: 2 jobs match \(abcd1111-.*, abcd2222-.*\); give more characters/,
    );
    await assert.rejects(resolveJobId(api, '9999'), /no job with an id starting with "9999"/);
    await assert.rejects(resolveJobId(api, 'ab'), /at least 4 characters/);
    await assert.rejects(resolveJobId(api, 'my-job'), /not a job id/);
  });
});

describe('kiln jobs', () => {
  it('ls: an aligned table, filters, --json', async () => {
    const a = await submit(m, { name: 'alpha', settings: { tasks: 2 }, priority: 80 });
    const b = await submit(m, { name: 'beta' });
    await m.api('POST', `/jobs/${b.id}/status`, { action: 'pause' });

    const table = await kiln(['jobs', 'ls']);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^ID\s+NAME\s+TYPE\s+STATUS\s+DONE\s+PRI\s+AGE$/);
    const columnOf = (line: string, word: string): number => line.indexOf(word);
    const alpha = lines.find((line) => line.startsWith(a.id.slice(0, 8)))!;
    const beta = lines.find((line) => line.startsWith(b.id.slice(0, 8)))!;
    assert.match(alpha, /alpha\s+echo-sleep\s+queued\s+0\/2\s+80\s+\d+s$/);
    assert.match(beta, /beta\s+echo-sleep\s+paused\s+0\/1\s+50\s+\d+s$/);
    assert.equal(columnOf(alpha, 'echo-sleep'), columnOf(beta, 'echo-sleep'), 'columns line up');

    const [paused, limited, none, badStatus, badLimit] = await Promise.all([
      kiln(['jobs', 'ls', '--status', 'paused', '--json']),
      kiln(['jobs', 'ls', '--limit', '1']),
      kiln(['jobs', 'ls', '--type', 'render']),
      kiln(['jobs', 'ls', '--status', 'sleepy']),
      kiln(['jobs', 'ls', '--limit', 'lots']),
    ]);
    assert.equal(paused.code, 0, paused.stderr);
    assert.deepEqual(
      JSON.parse(paused.stdout).jobs.map((job: Job) => job.id),
      [b.id],
    );
    assert.equal(limited.stdout.trimEnd().split('\n').length, 3, limited.stdout);
    assert.match(limited.stdout, /\(1 of \d+ jobs; see more with --limit\)/);
    assert.equal(none.stdout, 'no jobs\n');
    assertOneLineError(badStatus, /unknown job status "sleepy"/);
    assertOneLineError(badLimit, /--limit must be a whole number/);
  });

  it('show by prefix, text and --json', async () => {
    const job = await submit(m, {
      name: 'shown',
      frames: '1-10',
      chunkSize: 5,
      tag: 'gpu',
      settings: { message: 'hello' },
    });
    const [text, json] = await Promise.all([
      kiln(['jobs', 'show', job.id.slice(0, 6)]),
      kiln(['jobs', 'show', job.id, '--json']),
    ]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`^ID: +${job.id}$`, 'm'));
    assert.match(text.stdout, /^Name: +shown$/m);
    assert.match(text.stdout, /^Tasks: +0\/2 done \(2 queued\)$/m);
    assert.match(text.stdout, /^Frames: +1-10 \(chunks of 5\)$/m);
    assert.match(text.stdout, /^Tag: +gpu$/m);
    assert.equal(JSON.parse(json.stdout).id, job.id);
  });

  it('pause, resume, priority, cancel, requeue, delete', async () => {
    const job = await submit(m, { name: 'controlled', settings: { tasks: 2 } });
    const prefix = job.id.slice(0, 8);
    const step = async (args: string[], expected: RegExp): Promise<void> => {
      const result = await kiln(args);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, expected);
    };
    await step(['jobs', 'pause', prefix], new RegExp(`^job ${prefix} "controlled": paused\\n$`));
    await step(['jobs', 'resume', prefix], /: queued\n$/);
    await step(['jobs', 'priority', prefix, '90'], /: priority 90\n$/);
    assert.equal((await fetchJob(job.id)).priority, 90);
    await step(['jobs', 'cancel', prefix, '--reason', 'wrong frames'], /: canceled\n$/);
    assert.equal((await fetchJob(job.id)).activity, 'canceled: wrong frames');
    const requeued = await kiln(['jobs', 'requeue', prefix, '--json']);
    assert.equal(JSON.parse(requeued.stdout).status, 'queued');
    await step(['jobs', 'delete', prefix], new RegExp(`^deleted job ${prefix} "controlled"\\n$`));
    assert.equal((await m.api('GET', `/jobs/${job.id}`)).status, 404);
  });

  it('show lists the blocklist, unblock takes a worker off it, pause --now stops running tasks', async () => {
    const tag = 'blocklist-cli';
    // Top priority: the shared manager holds other tests' jobs, which these workers must not take.
    const job = await submit(m, { name: 'flaky', settings: { tasks: 6 }, tag, priority: 100 });
    const prefix = job.id.slice(0, 8);
    const bad = await new ProtocolWorker(m, 'bad-node', { tags: [tag] }).register();
    const good = await new ProtocolWorker(m, 'good-node', { tags: [tag] }).register();
    for (let i = 0; i < 3; i++) await bad.fail((await bad.next())!.id);

    const [text, json] = await Promise.all([kiln(['jobs', 'show', prefix]), kiln(['jobs', 'show', prefix, '--json'])]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^Blocklist: +bad-node \(misc tasks, since \d+s ago; kiln jobs unblock to lift\)$/m);
    assert.deepEqual(
      JSON.parse(json.stdout).blocklist.map((entry: { workerName: string; taskType: string }) => [
        entry.workerName,
        entry.taskType,
      ]),
      [['bad-node', 'misc']],
    );

    const lifted = await kiln(['jobs', 'unblock', prefix, 'bad-node']);
    assert.equal(lifted.code, 0, lifted.stderr);
    assert.equal(lifted.stdout, `worker bad-node is off the blocklist of job ${prefix}; 0 entries left\n`);
    assert.doesNotMatch((await kiln(['jobs', 'show', prefix])).stdout, /^Blocklist:/m);
    assertOneLineError(await kiln(['jobs', 'unblock', prefix, 'bad-node']), /worker .* is not on job .*'s blocklist/);

    const running = (await good.next())!;
    const paused = await kiln(['jobs', 'pause', prefix, '--now']);
    assert.equal(paused.code, 0, paused.stderr);
    assert.match(paused.stdout, /: paused\n$/);
    assert.equal((await m.api('GET', `/tasks/${running.id}`)).body.status, 'paused', 'the running task was stopped');
  });

  it('unknown and bad ids, bad priorities, wrong transitions: one line each', async () => {
    const job = await submit(m, { name: 'prio' });
    const cases: Array<[string[], RegExp]> = [
      [
        ['jobs', 'show', '00000000-0000-4000-8000-000000000000'],
        /^kiln: no job 00000000-0000-4000-8000-000000000000\n$/,
      ],
      [['jobs', 'show', 'ffff0000'], /no job with an id starting with "ffff0000"/],
      [['jobs', 'cancel', 'ab'], /at least 4 characters/],
      [['jobs', 'priority', job.id, '101'], /priority must be a whole number from 0 to 100/],
      [['jobs', 'resume', job.id], /cannot resume a job that is queued/],
    ];
    const results = await Promise.all(cases.map(([args]) => kiln(args)));
    for (const [index, result] of results.entries()) assertOneLineError(result, cases[index]![1]);
  });

  it('a farm that needs a token: a 401 says how to get one; KILN_TOKEN or <home>/api-token then works', async (t) => {
    const closed = await startTestManager(t, cluster, { open: false });
    assert.equal((await closed.api('POST', '/jobs', { name: 'x', type: 'echo-sleep' })).status, 401);
    assertOneLineError(await kiln(['submit', 'echo-sleep'], {}, closed), /this needs an API token/);
    const { createApiToken } = await import('../../manager/auth/secrets.js');
    const token = await createApiToken(closed.services.db, 'test');
    const submitted = await kiln(['submit', 'echo-sleep', '--json'], { KILN_TOKEN: token }, closed);
    assert.equal(submitted.code, 0, submitted.stderr);
    const id = JSON.parse(submitted.stdout).id as string;

    assertOneLineError(
      await kiln(['jobs', 'pause', id], {}, closed),
      /this needs an API token: run `kiln manager token` on the manager's host .*or set KILN_TOKEN/,
    );
    assertOneLineError(
      await kiln(['jobs', 'pause', id], { KILN_TOKEN: 'not-the-token' }, closed),
      /refused the API token from KILN_TOKEN/,
    );
    const tokenHome = makeTempDir(t, 'kiln-cli-home-');
    writeFileSync(join(tokenHome, 'api-token'), `${token}\n`);
    const paused = await kiln(['jobs', 'pause', id, '--home', tokenHome], {}, closed);
    assert.equal(paused.code, 0, paused.stderr);
    assert.match(paused.stdout, /: paused\n$/);
  });
});
