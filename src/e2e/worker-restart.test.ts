import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '../testing/temp.js';
import { startProcessFarm, waitForJob } from '../testing/e2e.js';
import { killProcessesRunning, livePidsRunning } from '../testing/proc-table.js';
import { waitFor, SECOND } from '../util/time.js';

/**
 * The task's program: notes "start", then "end" after `ms` (or "stopped" when sent SIGTERM) with
 * its pid, so the journal shows every run and whether two overlapped.
 */
function writeRunJournal(dir: string): { script: string; journal: string } {
  const script = join(dir, 'journal-run.mjs');
  const journal = join(dir, 'journal.txt');
  writeFileSync(
    script,
    `import { appendFileSync } from 'node:fs';
const [journal, ms] = process.argv.slice(2);
const note = (what) => appendFileSync(journal, \`\${what} \${process.pid} \${Date.now()}\\n\`);
note('start');
process.on('SIGTERM', () => { note('stopped'); process.exit(143); });
setTimeout(() => note('end'), Number(ms));
`,
  );
  writeFileSync(journal, '');
  return { script, journal };
}

test('a worker SIGKILLed mid-task and restarted at once never runs the task beside its orphaned first copy', async (t) => {
  const dir = makeTempDir(t);
  const { script, journal } = writeRunJournal(dir);
  // Whatever happens, no copy of the program outlives the test.
  t.after(() => killProcessesRunning(script));
  const farm = await startProcessFarm(t, { workers: 1 });

  // Watch the process table all along: never two copies at once.
  let most = 0;
  const seen = new Set<number>();
  const sample = (): void => {
    const pids = livePidsRunning(script);
    for (const pid of pids) seen.add(pid);
    most = Math.max(most, pids.length);
  };
  const sampler = setInterval(sample, 10);
  t.after(() => clearInterval(sampler));

  const submit = await farm.api('POST', '/jobs', {
    name: 'once',
    type: 'command',
    settings: { argv: [process.execPath, script, journal, '4000'] },
  });
  assert.equal(submit.status, 201, JSON.stringify(submit.body));
  await waitFor(() => readFileSync(journal, 'utf8').includes('start'), {
    timeoutMs: 60 * SECOND,
    what: 'the program to start',
  });

  await farm.workers.get('w1')!.kill('SIGKILL');
  farm.addWorker('w1'); // same name, same home: the same worker again

  const job = await waitForJob(farm, submit.body.id);
  sample();
  clearInterval(sampler);
  assert.equal(job.status, 'completed');

  const runs = readFileSync(journal, 'utf8')
    .trim()
    .split('\n')
    .map((line) => line.split(' ') as [string, string, string]);
  let running: string | undefined;
  for (const [what, pid] of runs) {
    if (what === 'start') {
      assert.equal(
        running,
        undefined,
        `run ${pid} started while run ${running} was still going:\n${readFileSync(journal, 'utf8')}`,
      );
      running = pid;
    } else {
      assert.equal(pid, running, `journal:\n${readFileSync(journal, 'utf8')}`);
      running = undefined;
    }
  }
  assert.deepEqual(
    runs.map(([what]) => what),
    ['start', 'stopped', 'start', 'end'],
    'the orphan was ended before the task ran again',
  );
  assert.equal(most, 1, `at most one copy in the process table at any moment (saw pids ${[...seen].join(', ')})`);
  assert.equal(seen.size, 2);
  assert.deepEqual(livePidsRunning(script), [], 'no copy left running');
  assert.match(farm.workers.get('w1')!.output(), /ending a task program left running by an earlier run of this worker/);
});
