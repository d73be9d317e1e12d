import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { makeTempDir } from '../testing/temp.js';
import { writeFrameRecorder } from '../testing/e2e.js';
import { startMultiManagerFarm, type MultiManagerFarm } from '../testing/multi-manager-farm.js';
import { runKiln } from '../testing/cli.js';
import { waitFor, SECOND } from '../util/time.js';

/** Each manager's own view of the farm's leadership (GET /version). */
type Leadership = { id: string; leader: boolean; leaderId?: string };
async function leadership(url: string): Promise<Leadership | undefined> {
  try {
    return ((await (await fetch(`${url}/api/v1/version`)).json()) as { manager?: Leadership }).manager;
  } catch {
    return undefined;
  }
}

/** The journal as runs per frame: who (the worker's pid) started it, and when it ended. */
function runsByFrame(journal: string): Map<string, Array<{ pid: string; start: number; end?: number }>> {
  const runs = new Map<string, Array<{ pid: string; start: number; end?: number }>>();
  for (const line of readFileSync(journal, 'utf8').trim().split('\n')) {
    const [kind, frame, pid, at] = line.split(' ') as [string, string, string, string];
    const list = runs.get(frame) ?? [];
    if (kind === 'start') list.push({ pid, start: Number(at) });
    else {
      const run = list.find((r) => r.pid === pid && r.end === undefined);
      assert.ok(run, `an end without a start: ${line}`);
      run.end = Number(at);
    }
    runs.set(frame, list);
  }
  return runs;
}

const jobStatus = async (farm: MultiManagerFarm, id: string) => (await farm.api('GET', `/jobs/${id}`)).body;

test('two managers, three workers: SIGKILL of the leading manager mid-job; the other finishes the job and leads, every frame ran once', async (t) => {
  const farm = await startMultiManagerFarm(t, { managers: 2, workers: 3 });
  const dir = makeTempDir(t);
  const { script, journal } = writeFrameRecorder(dir);
  const frames = 24;
  // The CLI knows both managers, as a studio's KILN_MANAGER would.
  const cli = (args: string[]) => runKiln([...args, '--json'], { env: { KILN_MANAGER: farm.managerList } });
  const submitted = await cli([
    'submit',
    'command',
    '--frames',
    `1-${frames}`,
    '--chunk',
    '1',
    '--set',
    `argv=${JSON.stringify([process.execPath, script, journal, '{frame}', '300'])}`,
  ]);
  assert.equal(submitted.code, 0, submitted.stderr);
  const jobId = JSON.parse(submitted.stdout).id as string;
  await waitFor(async () => (await jobStatus(farm, jobId)).taskCounts.completed >= 3, { what: 'some progress' });

  await waitFor(async () => (await Promise.all(farm.managers.map((m) => leadership(m.url)))).some((l) => l?.leader), {
    what: 'a leader',
  });
  const views = await Promise.all(farm.managers.map((m) => leadership(m.url)));
  const leaderIndex = views.findIndex((view) => view?.leader);
  const [doomed, survivor] = leaderIndex === 0 ? farm.managers : [...farm.managers].reverse();
  await doomed!.kill('SIGKILL');
  const killedAt = Date.now();
  await waitFor(async () => (await leadership(survivor!.url))?.leader === true, {
    timeoutMs: 10 * SECOND,
    what: 'the surviving manager to lead within 10 s',
  });
  t.diagnostic(`leadership moved ${Date.now() - killedAt} ms after the SIGKILL`);

  // The CLI pointed at both managers keeps working, the dead one first in its list.
  const afterKill = (args: string[]) =>
    runKiln([...args, '--json'], { env: { KILN_MANAGER: `${doomed!.url},${survivor!.url}` } });
  const shown = await afterKill(['jobs', 'show', jobId]);
  assert.equal(shown.code, 0, shown.stderr);
  assert.equal(JSON.parse(shown.stdout).id, jobId);

  const job = await waitFor(
    async () => {
      const body = await jobStatus(farm, jobId);
      return ['completed', 'failed', 'canceled'].includes(body.status) ? body : undefined;
    },
    { timeoutMs: 120 * SECOND, intervalMs: 250, what: 'the job to finish' },
  );
  assert.equal(job.status, 'completed');
  assert.equal(job.taskCounts.completed, frames);

  // Task-side evidence: every frame started once and ended once, on one worker.
  const runs = runsByFrame(journal);
  assert.equal(runs.size, frames);
  for (const [frame, list] of runs) {
    assert.equal(list.length, 1, `frame ${frame} ran ${list.length} times:\n${readFileSync(journal, 'utf8')}`);
    assert.ok(list[0]!.end !== undefined, `frame ${frame} ran to its end`);
  }
  // Every worker lives on and is seen by the surviving manager.
  for (const [name, worker] of farm.workers) assert.equal(worker.child.exitCode, null, `worker ${name} still runs`);
  const listed = await afterKill(['workers', 'ls']);
  assert.equal(listed.code, 0, listed.stderr);
  assert.equal(JSON.parse(listed.stdout).workers.length, 3);
});

test('a task submitted through one manager is taken at once by a worker that knows only the other', async (t) => {
  // Neither the manager's periodic round (an hour) nor the worker's next request (each waits 60 s) can
  // explain a pickup before the worker's first long poll ends: only the wake-up over NOTIFY can.
  const farm = await startMultiManagerFarm(t, {
    managers: 2,
    workers: 1,
    settings: { dispatch_poll_interval: 3600, long_poll: 60 },
    workerSettings: { taskWaitMs: 60_000 },
    managersOf: (_n, urls) => [urls[1]!],
  });
  const awakeAt = Date.now();
  const [near] = farm.managers;
  const submittedAt = Date.now();
  const submitted = await runKiln(['submit', 'echo-sleep', '--json', '--set', 'message=hello'], {
    env: { KILN_MANAGER: near!.url },
  });
  assert.equal(submitted.code, 0, submitted.stderr);
  const jobId = JSON.parse(submitted.stdout).id as string;
  const done = await waitFor(
    async () => {
      const body = await jobStatus(farm, jobId);
      return body.status === 'completed' ? body : undefined;
    },
    { timeoutMs: 50 * SECOND, intervalMs: 20, what: 'the job to complete' },
  );
  const completedAt = Date.now();
  t.diagnostic(`submitted to completed through the other manager in ${completedAt - submittedAt} ms`);
  assert.equal(done.status, 'completed');
  assert.ok(completedAt - awakeAt < 60 * SECOND, "before the worker's first long poll could have ended");
  const tasks = (await farm.api('GET', `/jobs/${jobId}/tasks`)).body.tasks as Array<{ workerId: string }>;
  const workers = (await farm.api('GET', '/workers')).body.workers as Array<{ id: string; name: string }>;
  assert.equal(workers.find((w) => w.id === tasks[0]!.workerId)?.name, 'w1');
});
