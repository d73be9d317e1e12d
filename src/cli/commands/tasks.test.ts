import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Job, Task } from '../../client/index.js';
import { startTestCluster, type TestCluster } from '../../testing/cluster.js';
import { startTestManager, ProtocolWorker, type TestManager } from '../../testing/farm.js';
import { spawn } from 'node:child_process';
import { KILN_MAIN, runKiln, type CliResult } from '../../testing/cli.js';
import { makeTempDir } from '../../testing/temp.js';
import { waitFor } from '../../util/time.js';

let cluster: TestCluster;
let home: string;
const cleanups: Array<() => unknown> = [];
const t = { after: (fn: () => unknown) => cleanups.push(fn) };
before(async () => {
  cluster = await startTestCluster(t);
  home = makeTempDir(t, 'kiln-cli-home-');
});
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

const kiln = (m: TestManager, args: string[]): Promise<CliResult> =>
  runKiln(args, { env: { KILN_MANAGER: m.url, KILN_HOME: home, KILN_TOKEN: '' } });

/** The CLI as a running process whose output the test reads as it comes. */
function startKiln(m: TestManager, args: string[]): { output: () => string; done: Promise<number | null> } {
  const child = spawn(process.execPath, [KILN_MAIN, ...args], {
    env: { ...process.env, KILN_MANAGER: m.url, KILN_HOME: home, KILN_TOKEN: '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  return { output: () => stdout, done: new Promise((resolve) => child.on('close', resolve)) };
}

async function submit(m: TestManager, body: Record<string, unknown>): Promise<Job> {
  const response = await m.api('POST', '/jobs', { name: 'job', type: 'echo-sleep', settings: {}, ...body });
  assert.equal(response.status, 201, JSON.stringify(response.body));
  return response.body;
}
const tasksOf = async (m: TestManager, jobId: string): Promise<Task[]> =>
  (await m.api('GET', `/jobs/${jobId}/tasks`)).body.tasks;

describe('kiln tasks', () => {
  it("ls: the job's tasks with status, progress and worker; --status, --json", async (t) => {
    const m = await startTestManager(t, cluster);
    const worker = await new ProtocolWorker(m, 'render-07').register();
    const job = await submit(m, { settings: { tasks: 3 } });
    const first = (await worker.next(5000))!;
    const updated = await worker.update(first.id, { status: 'active', progress: 0.5, activity: 'halfway there' });
    assert.equal(updated.status, 204, JSON.stringify(updated.body));

    const [table, active, json] = await Promise.all([
      kiln(m, ['tasks', 'ls', job.id.slice(0, 8)]),
      kiln(m, ['tasks', 'ls', job.id, '--status', 'active']),
      kiln(m, ['tasks', 'ls', job.id, '--json']),
    ]);
    for (const result of [table, active, json]) assert.equal(result.code, 0, result.stderr);
    const lines = table.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^ID\s+#\s+NAME\s+TYPE\s+STATUS\s+PROGRESS\s+WORKER\s+UPDATED\s+ACTIVITY$/);
    assert.equal(lines.length, 4);
    assert.match(
      lines.find((line) => line.startsWith(first.id))!,
      /echo-sleep 1\s+misc\s+active\s+50%\s+render-07\s+\d+s\s+halfway there$/,
    );
    assert.match(active.stdout, new RegExp(`^${first.id}`, 'm'));
    assert.equal(active.stdout.trimEnd().split('\n').length, 2, active.stdout);
    assert.deepEqual(
      JSON.parse(json.stdout).tasks.map((task: Task) => task.index),
      [0, 1, 2],
    );
  });

  it('log: whole, --tail, --json; --follow prints lines as they come and ends with the task', async (t) => {
    const m = await startTestManager(t, cluster);
    const worker = await new ProtocolWorker(m, 'w1').register();
    const job = await submit(m, {});
    const [task] = await tasksOf(m, job.id);
    assert.equal((await worker.next(5000))!.id, task!.id);
    const updated = await worker.update(task!.id, { status: 'active', log: ['line 1', 'line 2', 'line 3'] });
    assert.equal(updated.status, 204, JSON.stringify(updated.body));

    const [whole, tail, json] = await Promise.all([
      kiln(m, ['tasks', 'log', task!.id]),
      kiln(m, ['tasks', 'log', task!.id, '--tail', '2']),
      kiln(m, ['tasks', 'log', task!.id, '--json']),
    ]);
    for (const result of [whole, tail, json]) assert.equal(result.code, 0, result.stderr);
    assert.equal(whole.stdout, 'line 1\nline 2\nline 3\n');
    assert.equal(tail.stdout, 'line 2\nline 3\n');
    assert.deepEqual(JSON.parse(json.stdout), { lines: ['line 1', 'line 2', 'line 3'] });

    const following = startKiln(m, ['tasks', 'log', task!.id, '--follow', '--tail', '1']);
    await waitFor(() => following.output() === 'line 3\n', { what: 'the last line', timeoutMs: 30_000 });
    await worker.update(task!.id, { log: ['line 4'] });
    await waitFor(() => following.output().endsWith('line 4\n'), { what: 'line 4 followed' });
    await worker.update(task!.id, { log: ['line 5'] });
    await worker.complete(task!.id); // logs "done"
    assert.equal(await following.done, 0);
    assert.equal(following.output(), 'line 3\nline 4\nline 5\ndone\n');
  });

  it('bad task ids and --tail values: one line each', async (t) => {
    const m = await startTestManager(t, cluster);
    const [short, unknown, badTail] = await Promise.all([
      kiln(m, ['tasks', 'log', 'abcd1234']),
      kiln(m, ['tasks', 'log', '00000000-0000-4000-8000-000000000000']),
      kiln(m, ['tasks', 'log', '00000000-0000-4000-8000-000000000000', '--tail', '0']),
    ]);
    for (const result of [short, unknown, badTail]) {
      assert.equal(result.code, 1);
      assert.match(result.stderr, /^kiln: [^\n]+\n$/);
    }
    assert.match(short.stderr, /not a task id; give the full id as `kiln tasks ls JOB` prints it/);
    assert.match(unknown.stderr, /no task 00000000-0000-4000-8000-000000000000/);
    assert.match(badTail.stderr, /--tail must be a whole number from 1 to 10000/);
  });
});
