/**
 * A manager that accepts connections but never answers (SIGSTOPped: the kernel still completes
 * connections) is passed over by the CLI and by workers that know another manager, soon after a
 * probe goes unanswered, instead of after the whole 30 s request limit (src/client/answer-watch.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startMultiManagerFarm } from '../testing/multi-manager-farm.js';
import { assertOneLineError, runKiln } from '../testing/cli.js';
import { waitFor, SECOND } from '../util/time.js';

test('with the first manager of the list stopped (SIGSTOP), CLI commands go through the other, and the worker moves to it and runs a job', async (t) => {
  // A stopped process does not act on SIGTERM: it goes on before the farm is stopped, whatever happens
  // (after-hooks run in the order they were added, so this one comes before the farm's).
  let stopped: { kill: (signal: NodeJS.Signals) => unknown } | undefined;
  t.after(() => stopped?.kill('SIGCONT'));
  const farm = await startMultiManagerFarm(t, {
    managers: 2,
    workers: 1,
    // The worker starts on the manager that will hang.
    managersOf: (_n, urls) => urls,
  });
  const [hung, good] = farm.managers as [(typeof farm.managers)[0], (typeof farm.managers)[0]];
  const list = `${hung.url},${good.url}`;
  const cli = (args: string[], managers = list) =>
    runKiln([...args, '--json', '--verbose'], { env: { KILN_MANAGER: managers } });

  hung.child.kill('SIGSTOP');
  stopped = hung.child;
  try {
    const started = Date.now();
    const jobs = await cli(['jobs', 'ls']);
    t.diagnostic(`kiln jobs ls with the stopped manager first: ${Date.now() - started} ms`);
    assert.equal(jobs.code, 0, jobs.stderr);
    assert.deepEqual(JSON.parse(jobs.stdout).jobs, []);
    // The mechanism, seen from outside: the stopped manager did not answer the call nor the probe, and the other answered.
    assert.match(
      jobs.stderr,
      new RegExp(
        `passed over the manager at ${hung.url}: no answer within \\d+ ms, nor to GET /version within 3000 ms`,
      ),
    );
    assert.match(jobs.stderr, new RegExp(`GET /api/v1/jobs\\S* answered 200 by the manager at ${good.url}\\n`));
    assert.doesNotMatch(jobs.stderr, new RegExp(`answered \\d+ by the manager at ${hung.url}`));

    const workers = await cli(['workers', 'ls']);
    assert.equal(workers.code, 0, workers.stderr);
    assert.equal(JSON.parse(workers.stdout).workers.length, 1);

    // The worker was waiting on the stopped manager; it passes it over and takes work from the other.
    const worker = farm.workers.get('w1')!;
    await waitFor(() => worker.output().includes('a manager did not answer; going on with the next'), {
      timeoutMs: 30 * SECOND,
      what: 'the worker to pass over the stopped manager',
    });
    assert.match(worker.output(), new RegExp(`"manager":"${hung.url}/api/v1".*"next":"${good.url}/api/v1"`));
    const job = await cli(['submit', 'echo-sleep', '--set', 'message=hello'], good.url);
    assert.equal(job.code, 0, job.stderr);
    const jobId = JSON.parse(job.stdout).id as string;
    await waitFor(
      async () => JSON.parse((await cli(['jobs', 'show', jobId], good.url)).stdout).status === 'completed',
      { timeoutMs: 60 * SECOND, intervalMs: 500, what: 'the job to complete through the other manager' },
    );

    // A change whose first call (a POST) went to the stopped manager is not sent again: one line says so and how to check.
    const priority = await runKiln(['jobs', 'priority', jobId, '70'], { env: { KILN_MANAGER: list } });
    assertOneLineError(
      priority,
      new RegExp(
        `POST /api/v1/jobs/${jobId}/priority got no answer from the manager at ${hung.url} \\(no answer within .*may or may not have been done, and it was not sent again: check with \`kiln jobs show ${jobId}\``,
      ),
    );
    assert.equal(
      JSON.parse((await cli(['jobs', 'show', jobId], good.url)).stdout).priority,
      50,
      'not sent to the other',
    );
  } finally {
    hung.child.kill('SIGCONT');
  }
});
