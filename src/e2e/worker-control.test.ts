import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startProcessFarm, waitForJob } from '../testing/e2e.js';
import { runKiln } from '../testing/cli.js';
import { waitFor, SECOND } from '../util/time.js';

test('a real worker obeys sleep, wake and shutdown; a canceled task stops within 2 s', async (t) => {
  const farm = await startProcessFarm(t, { workers: 1 });
  const worker = farm.workers.get('w1')!;
  const status = async () => ((await farm.api('GET', '/workers')).body.workers[0] as { status: string }).status;
  const cli = (...args: string[]) => runKiln([...args, '--manager', farm.manager.url]);

  // Tags a wrangler sets belong to the farm: the worker's own (none) do not replace them when it signs on again.
  assert.equal((await cli('workers', 'tag', 'w1', 'farm-set')).code, 0);
  const tags = async () => ((await farm.api('GET', '/workers')).body.workers[0] as { tags: string[] }).tags;

  // Sleep now: the idle worker hears of it at once (its long poll ends) and goes to sleep.
  assert.equal((await cli('workers', 'sleep', 'w1', '--now')).code, 0);
  await waitFor(async () => (await status()) === 'asleep', { timeoutMs: 10 * SECOND, what: 'the worker to sleep' });
  const submitted = await farm.api('POST', '/jobs', {
    name: 'long',
    type: 'echo-sleep',
    settings: { sleepSeconds: 30 },
  });
  assert.equal(submitted.status, 201);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.equal(
    (await farm.api('GET', `/jobs/${submitted.body.id}`)).body.status,
    'queued',
    'a sleeping worker takes no task',
  );

  assert.equal((await cli('workers', 'wake', 'w1')).code, 0);
  await waitFor(async () => (await farm.api('GET', `/jobs/${submitted.body.id}`)).body.status === 'active', {
    timeoutMs: 15 * SECOND,
    what: 'the woken worker to start the task',
  });
  assert.deepEqual(await tags(), ['farm-set'], 'the woken worker signed on again and kept the tags set for it');

  // Cancel the running job: the worker stops its command within 2 s (it asks every 2 s). The
  // clock starts once the cancel is recorded (the CLI has answered), not when the CLI starts,
  // and the bound leaves room for the report to arrive and be polled on a loaded machine.
  assert.equal((await cli('jobs', 'cancel', submitted.body.id)).code, 0);
  const canceledAt = Date.now();
  const job = await waitForJob(farm, submitted.body.id, 10 * SECOND);
  assert.equal(job.status, 'canceled');
  assert.ok(Date.now() - canceledAt < 4 * SECOND, `stopped in ${Date.now() - canceledAt} ms`);

  // Shut down: the worker signs off and exits 0.
  assert.equal((await cli('workers', 'shutdown', 'w1')).code, 0);
  await waitFor(() => worker.child.exitCode !== null, { timeoutMs: 15 * SECOND, what: 'the worker to exit' });
  assert.equal(worker.child.exitCode, 0);
  assert.equal(await status(), 'offline');
});
