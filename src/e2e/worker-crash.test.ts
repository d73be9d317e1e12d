import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { makeTempDir } from '../testing/temp.js';
import { startProcessFarm, waitForJob } from '../testing/e2e.js';
import { renderFrame } from '../render/render.js';
import { waitFor } from '../util/time.js';

const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

test('SIGKILL of a worker mid-task: the task is requeued and every frame is written once', async (t) => {
  const farm = await startProcessFarm(t, { workers: 3, settings: { worker_timeout: 2, timeout_check_interval: 0.5 } });
  const out = makeTempDir(t);
  const submit = await farm.api('POST', '/jobs', {
    name: 'crash',
    type: 'render',
    frames: '1-24',
    chunkSize: 4,
    settings: { output: out, width: 320, height: 180, video: false },
  });
  assert.equal(submit.status, 201, JSON.stringify(submit.body));
  const jobId = submit.body.id;

  // Killed mid-task: its renderer has already reported progress (frames are being written).
  const victim = await waitFor(
    async () => {
      const tasks = (await farm.api('GET', `/jobs/${jobId}/tasks`)).body.tasks as Array<{
        id: string;
        status: string;
        workerId: string;
        progress: number;
      }>;
      return tasks.find((task) => task.status === 'active' && task.progress > 0 && task.progress < 1);
    },
    { intervalMs: 20, what: 'a task to be part-way through' },
  );
  const workers = (await farm.api('GET', '/workers')).body.workers as Array<{ id: string; name: string }>;
  const victimName = workers.find((w) => w.id === victim.workerId)!.name;
  await farm.workers.get(victimName)!.kill('SIGKILL');

  const job = await waitForJob(farm, jobId);
  assert.equal(job.status, 'completed');
  const task = (await farm.api('GET', `/tasks/${victim.id}`)).body;
  assert.equal(task.status, 'completed');
  assert.notEqual(task.workerId, victim.workerId, "another worker finished the killed worker's task");
  assert.equal((await farm.api('GET', `/workers/${victim.workerId}`)).body.status, 'error');

  const files = readdirSync(join(out, 'frames')).sort();
  assert.deepEqual(
    files,
    Array.from({ length: 24 }, (_, i) => `frame_${String(i + 1).padStart(4, '0')}.png`),
    'one file per frame, no leftovers',
  );
  for (let frame = 1; frame <= 24; frame++) {
    const expected = await renderFrame({ frame, width: 320, height: 180 });
    assert.equal(
      sha(readFileSync(join(out, 'frames', files[frame - 1]!))),
      sha(expected),
      `frame ${frame} is whole and right`,
    );
  }
  // The killed worker's renderer did not live on (it stops when its parent goes), so nothing
  // writes into the job's output any more.
  assert.deepEqual(processesMentioning(out), [], 'no renderer left running');
});

/** Pids of live processes whose command line contains `text`. */
function processesMentioning(text: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}
