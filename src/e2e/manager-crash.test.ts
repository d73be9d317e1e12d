import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { makeTempDir } from '../testing/temp.js';
import { startProcessFarm, waitForJob, writeFrameRecorder } from '../testing/e2e.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../util/time.js';

test('SIGKILL of the manager mid-job, then a restart: the job completes, nothing lost or run twice at once', async (t) => {
  const farm = await startProcessFarm(t, { workers: 3 });
  const dir = makeTempDir(t);
  const { script, journal } = writeFrameRecorder(dir);
  const frames = 30;
  const submit = await farm.api('POST', '/jobs', {
    name: 'survive',
    type: 'command',
    frames: `1-${frames}`,
    chunkSize: 2,
    settings: { argv: [process.execPath, script, journal, '{frame}', '150'] },
  });
  assert.equal(submit.status, 201, JSON.stringify(submit.body));
  const jobId = submit.body.id;
  await waitFor(async () => (await farm.api('GET', `/jobs/${jobId}`)).body.taskCounts.completed >= 3, {
    what: 'some progress',
  });

  await farm.manager.kill('SIGKILL');
  await sleep(1500); // workers find the manager gone; their updates queue up on disk
  await farm.restartManager();
  const restartedAt = Date.now();

  const job = await waitForJob(farm, jobId);
  assert.equal(job.status, 'completed');
  assert.equal(job.taskCounts.completed, job.taskCount);

  // Every frame ran to its end; no frame ran on two workers at the same time.
  const runs = new Map<string, Array<{ pid: string; start: number; end?: number }>>();
  for (const line of readFileSync(journal, 'utf8').trim().split('\n')) {
    const [kind, frame, pid, at] = line.split(' ') as [string, string, string, string];
    const list = runs.get(frame) ?? [];
    if (kind === 'start') list.push({ pid, start: Number(at) });
    else list.find((run) => run.pid === pid && run.end === undefined)!.end = Number(at);
    runs.set(frame, list);
  }
  assert.equal(runs.size, frames);
  for (const [frame, list] of runs) {
    assert.ok(
      list.some((run) => run.end !== undefined),
      `frame ${frame} finished`,
    );
    const sorted = [...list].sort((a, b) => a.start - b.start);
    for (let i = 1; i < sorted.length; i++) {
      assert.ok(sorted[i]!.start >= (sorted[i - 1]!.end ?? Infinity), `frame ${frame} ran twice at once`);
    }
  }
  // Workers came back by themselves: all three processes still run, are awake, and the new
  // manager sees them (heartbeats reach it within a few seconds).
  for (const [name, worker] of farm.workers) assert.equal(worker.child.exitCode, null, `worker ${name} still runs`);
  await waitFor(
    async () => {
      const workers = (await farm.api('GET', '/workers')).body.workers as Array<{ status: string; lastSeenAt: string }>;
      return (
        workers.length === 3 && workers.every((w) => w.status === 'awake' && Date.parse(w.lastSeenAt) >= restartedAt)
      );
    },
    { timeoutMs: 20_000, what: 'every worker to be seen by the restarted manager' },
  );
});
