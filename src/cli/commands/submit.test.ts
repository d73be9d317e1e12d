import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { TestCluster } from '../../testing/cluster.js';
import { startTestManager, useFileFarm, ProtocolWorker, type TestManager } from '../../testing/farm.js';
import { runKiln, type CliResult, assertOneLineError } from '../../testing/cli.js';
import { freePort } from '../../testing/temp.js';
import { waitFor } from '../../util/time.js';
import { ApiClient, type Job } from '../../client/index.js';
import { startTinyServer, sendError, sendJson } from '../../client/testing.js';
import { buildSubmission, defaultJobName, parseSetting, parseSubmitOptions } from './submit.js';
import { followJob, type ProgressDisplay } from './submit-wait.js';

/** One PostgreSQL and a shared manager for the file; the waiting tests get a manager each, so their workers see only their job. */
let cluster: TestCluster;
let shared: TestManager;
let home: string;
useFileFarm({ before, after }, {}, (farm) => ({ cluster, manager: shared, home } = farm));

const kiln = (m: TestManager, args: string[]): Promise<CliResult> =>
  runKiln(args, { env: { KILN_MANAGER: m.url, KILN_HOME: home, KILN_TOKEN: '' } });

const jobsOf = async (m: TestManager): Promise<Array<Record<string, any>>> => (await m.api('GET', '/jobs')).body.jobs;

/** Takes and completes (or fails) `count` tasks as a worker would. */
async function work(worker: ProtocolWorker, count: number, outcome: 'complete' | 'fail' = 'complete'): Promise<void> {
  for (let done = 0; done < count; ) {
    const task = await worker.next(500);
    if (!task) continue;
    await worker.update(task.id, { status: 'active', progress: 0.5, log: ['working'] });
    await (outcome === 'complete' ? worker.complete(task.id) : worker.fail(task.id));
    done++;
  }
}

describe('building a submission', () => {
  it('--set values are JSON when they parse, else text', () => {
    assert.deepEqual(parseSetting('count=5'), ['count', 5]);
    assert.deepEqual(parseSetting('on=true'), ['on', true]);
    assert.deepEqual(parseSetting('list=[1,2]'), ['list', [1, 2]]);
    assert.deepEqual(parseSetting('message=hello world'), ['message', 'hello world']);
    assert.deepEqual(parseSetting('quoted="5"'), ['quoted', '5']);
    assert.deepEqual(parseSetting('expr=a=b'), ['expr', 'a=b']);
    assert.deepEqual(parseSetting('empty='), ['empty', '']);
    assert.throws(() => parseSetting('novalue'), /key=value/);
    assert.throws(() => parseSetting('=5'), /not a setting name/);
  });

  it("makes the request body from the parsed options, with the type's etag and a default name", () => {
    const now = new Date(2024, 0, 31, 17, 45, 2);
    const options = parseSubmitOptions(
      'render',
      { set: ['width=640', 'output=/farm/out'], frames: '1-10', chunk: '5', priority: '70', tag: 'gpu' },
      now,
    );
    assert.deepEqual(buildSubmission(options, { name: 'render', etag: 'abc' }), {
      name: 'render-20240131-174502',
      type: 'render',
      typeEtag: 'abc',
      settings: { width: 640, output: '/farm/out' },
      frames: '1-10',
      chunkSize: 5,
      priority: 70,
      tag: 'gpu',
    });
    assert.equal(defaultJobName('echo-sleep', now), 'echo-sleep-20240131-174502');
    const bare = buildSubmission(
      parseSubmitOptions('echo-sleep', { name: 'mine' }),
      { name: 'echo-sleep', etag: 'e' },
      { mode: 'direct' },
    );
    assert.deepEqual(bare, {
      name: 'mine',
      type: 'echo-sleep',
      typeEtag: 'e',
      settings: {},
      storage: { mode: 'direct' },
    });
  });

  it('refuses --deps without --input before anything is sent (they would go nowhere)', () => {
    assert.throws(() => parseSubmitOptions('echo-sleep', { deps: ['tex/'] }), /--deps needs --input/);
    assert.doesNotThrow(() => parseSubmitOptions('echo-sleep', { deps: ['tex/'], input: 'shot.blend' }));
  });
});

describe('following a job', () => {
  const counts = { queued: 0, active: 0, 'soft-failed': 0, failed: 0, completed: 0, canceled: 0, paused: 0 };
  const jobIn = (status: string, completed: number): Job =>
    ({
      id: '3f2a1b2c-0000-4000-8000-000000000000',
      name: 'j',
      status,
      taskCount: 2,
      taskCounts: { ...counts, completed },
    }) as unknown as Job;

  it('polls when the event stream is not there, and rides out a manager that goes away for a moment', async (t) => {
    const answers = [jobIn('queued', 0), jobIn('active', 1)];
    const server = await startTinyServer(t, (request, response) => {
      if (request.path.endsWith('/events')) return sendError(response, 503, 'no_events', 'no event stream here');
      sendJson(response, 200, answers.length > 1 ? answers.shift() : answers[0]);
    });
    const seen: string[] = [];
    const notes: string[] = [];
    const display: ProgressDisplay = {
      update: (job) => seen.push(`${job.status} ${job.taskCounts.completed}`),
      note: (text) => notes.push(text),
      stop: () => undefined,
    };
    const following = followJob(new ApiClient({ baseUrl: server.url }), jobIn('queued', 0).id, display);
    await waitFor(() => seen.includes('active 1'), { what: 'the second poll' });
    await server.stop();
    await waitFor(() => notes.length > 0, { what: 'a note that the manager is away' });
    answers[0] = jobIn('completed', 2);
    await server.start();
    const final = await following;
    assert.equal(final.status, 'completed');
    assert.equal(seen.at(-1), 'completed 2');
    assert.match(notes[0]!, /^cannot reach the manager; retrying/);
  });
});

describe('kiln submit', () => {
  it('submits an echo-sleep job that jobs ls then lists', async () => {
    const submitted = await kiln(shared, [
      'submit',
      'echo-sleep',
      '--set',
      'message=hi there',
      '--set',
      'tasks=3',
      '--priority',
      '70',
      '--name',
      'listed-job',
    ]);
    assert.equal(submitted.code, 0, submitted.stderr);
    const id = /submitted job ([0-9a-f-]{36}) "listed-job" \(echo-sleep, 3 tasks, priority 70\)/.exec(
      submitted.stdout,
    )?.[1];
    assert.ok(id, submitted.stdout);
    const job = (await shared.api('GET', `/jobs/${id}`)).body;
    assert.deepEqual([job.settings.message, job.settings.tasks, job.priority], ['hi there', 3, 70]);

    const listed = await kiln(shared, ['jobs', 'ls']);
    assert.equal(listed.code, 0, listed.stderr);
    const line = listed.stdout.split('\n').find((l) => l.startsWith(id.slice(0, 8)));
    assert.ok(line, listed.stdout);
    assert.match(line, new RegExp(`^${id.slice(0, 8)}\\s+listed-job\\s+echo-sleep\\s+queued\\s+0/3\\s+70\\s+\\d+s$`));
  });

  it('--json prints the job; frames and chunk make the tasks', async () => {
    const result = await kiln(shared, [
      'submit',
      'echo-sleep',
      '--frames',
      '1-10',
      '--chunk',
      '4',
      '--tag',
      'blue',
      '--json',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const job = JSON.parse(result.stdout);
    assert.equal(job.type, 'echo-sleep');
    assert.match(job.name, /^echo-sleep-\d{8}-\d{6}$/);
    assert.deepEqual([job.frames, job.chunkSize, job.taskCount, job.tag], ['1-10', 4, 3, 'blue']);
  });

  it('bad input: one line, non-zero exit, nothing submitted', async () => {
    const before = (await jobsOf(shared)).length;
    const cases: Array<[string[], RegExp]> = [
      [['no-such-type'], /unknown job type "no-such-type"; known types: .*echo-sleep/],
      [['echo-sleep', '--frames', '10-1'], /10-1.*backwards.*--frames/],
      [['echo-sleep', '--chunk', '0'], /--chunk must be a whole number from 1 to 100000, got "0"/],
      [['echo-sleep', '--priority', '101'], /--priority must be a whole number from 0 to 100, got "101"/],
      [['echo-sleep', '--set', 'colour=red'], /settings\.colour .*--set colour/],
      [['echo-sleep', '--set', 'sleepSeconds=-1'], /settings\.sleepSeconds/],
      [['echo-sleep', '--set', 'message'], /--set takes key=value, got "message"/],
      [['echo-sleep', '--set', '=x'], /not a setting name/],
    ];
    const results = await Promise.all(cases.map(([args]) => kiln(shared, ['submit', ...args])));
    for (const [index, result] of results.entries()) assertOneLineError(result, cases[index]![1]);
    assert.equal((await jobsOf(shared)).length, before);
  });

  it('an unreachable manager: one line naming it', async () => {
    const port = await freePort();
    const result = await runKiln(['submit', 'echo-sleep', '--manager', `127.0.0.1:${port}`], {
      env: { KILN_HOME: home, KILN_TOKEN: '' },
    });
    assert.equal(result.code, 1);
    assertOneLineError(
      result,
      new RegExp(
        `cannot reach the manager at http://127\\.0\\.0\\.1:${port}: connection refused \\(start it with \`kiln manager\` or pass --manager URL\\)`,
      ),
    );
  });
});

describe('kiln submit --wait', () => {
  it('exits 0 when the job completes, after plain progress lines on a non-terminal stderr', async (t) => {
    const m = await startTestManager(t, cluster);
    const worker = await new ProtocolWorker(m, 'w1').register();
    const running = kiln(m, ['submit', 'echo-sleep', '--set', 'tasks=3', '--wait']);
    await work(worker, 3);
    const result = await running;
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trim().split('\n');
    assert.equal(lines.length, 2, result.stdout);
    assert.match(lines[0]!, /^submitted job /);
    assert.match(lines[1]!, /^job [0-9a-f]{8} "echo-sleep-\d{8}-\d{6}" completed after .*: 3\/3 tasks done$/);
    // Progress: plain lines (how many depends on how fast the worker was), no terminal escapes.
    for (const line of result.stderr.split('\n').filter(Boolean))
      assert.match(line, /^job [0-9a-f]{8}: (queued|active), \d\/3 tasks done$/);
  });

  it('exits 1 when the job fails; --json prints the final job', async (t) => {
    const m = await startTestManager(t, cluster, {
      failure: { max_workers_per_task: 1, blocklist_threshold: 3, job_fail_share: 0.1 },
    });
    const worker = await new ProtocolWorker(m, 'w1').register();
    const running = kiln(m, ['submit', 'echo-sleep', '--wait', '--json']);
    await work(worker, 1, 'fail');
    const result = await running;
    assert.equal(result.code, 1, result.stderr);
    const job = JSON.parse(result.stdout);
    assert.equal(job.status, 'failed');
    assert.equal(job.taskCounts.failed, 1);
    assert.match(result.stderr, /failed after .*: 0\/1 tasks done, 1 failed \(see `kiln tasks ls [0-9a-f]{8}`\)\n$/);
  });

  it('exits 2 when the job is canceled', async (t) => {
    const m = await startTestManager(t, cluster);
    const running = kiln(m, ['submit', 'echo-sleep', '--set', 'tasks=2', '--wait']);
    const [job] = await waitFor(
      async () => {
        const jobs = await jobsOf(m);
        return jobs.length > 0 && jobs;
      },
      { what: 'the submitted job' },
    );
    const canceled = await kiln(m, ['jobs', 'cancel', job!.id.slice(0, 6)]);
    assert.equal(canceled.code, 0, canceled.stderr);
    const result = await running;
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stdout, /canceled after .*: 0\/2 tasks done\n$/);
  });

  it('says how it exits in --help', async () => {
    const result = await runKiln(['submit', '--help']);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /0 +completed/);
    assert.match(result.stdout, /1 +failed/);
    assert.match(result.stdout, /2 +canceled/);
  });
});
