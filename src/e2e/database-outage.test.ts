import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeTempDir } from '../testing/temp.js';
import { runKiln } from '../testing/cli.js';
import { startProcessFarm, waitForJob, writeFrameRecorder } from '../testing/e2e.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../util/time.js';

test('PostgreSQL stopped for 5 s mid-job: 503 with Retry-After, nothing crashes, the job completes', async (t) => {
  const farm = await startProcessFarm(t, { workers: 2 });
  const dir = makeTempDir(t);
  const { script, journal } = writeFrameRecorder(dir);
  const submit = await farm.api('POST', '/jobs', {
    name: 'outage',
    type: 'command',
    frames: '1-20',
    chunkSize: 1,
    settings: { argv: [process.execPath, script, journal, '{frame}', '200'] },
  });
  assert.equal(submit.status, 201, JSON.stringify(submit.body));
  const jobId = submit.body.id;
  await waitFor(async () => (await farm.api('GET', `/jobs/${jobId}`)).body.taskCounts.completed >= 2, {
    what: 'some progress',
  });

  const stop = await runKiln(['db', 'stop', '--home', farm.home]);
  assert.equal(stop.code, 0, stop.stderr);
  const during = await farm.api('GET', `/jobs/${jobId}`);
  assert.equal(during.status, 503);
  assert.equal(during.body.error.code, 'database_unavailable');
  assert.ok(Number(during.headers.get('retry-after')) > 0);
  await sleep(5000);
  const start = await runKiln(['db', 'start', '--home', farm.home]);
  assert.equal(start.code, 0, start.stderr);

  const job = await waitForJob(farm, jobId);
  assert.equal(job.status, 'completed');
  assert.equal(farm.manager.child.exitCode, null, 'the manager is still running');
  for (const [name, worker] of farm.workers)
    assert.equal(worker.child.exitCode, null, `worker ${name} is still running`);
});
