/**
 * I/O priority across real processes: a `kiln worker` transcoding with ffmpeg is paused by a
 * foreground hold on its host and resumes after it; the video is whole and the task's activity
 * and log on the manager tell about the pause.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IoPriority } from '../io/index.js';
import { locateFfmpeg } from '../media/ffmpeg.js';
import { startProcessFarm, waitForJob } from '../testing/e2e.js';
import { freePort, makeTempDir } from '../testing/temp.js';
import { SECOND, waitFor } from '../util/time.js';

test("a hold pauses a worker's ffmpeg task and the release resumes it: a whole video, the pause in its log", async (t) => {
  const ffmpeg = locateFfmpeg().path;
  const dir = makeTempDir(t, 'kiln-e2e-io-');
  const source = join(dir, 'source.mp4');
  const made = spawnSync(ffmpeg, [
    '-nostdin',
    '-y',
    '-f',
    'lavfi',
    '-i',
    'testsrc=duration=8:size=640x360:rate=25',
    '-c:v',
    'mpeg4',
    source,
  ]);
  assert.equal(made.status, 0, String(made.stderr));

  const farm = await startProcessFarm(t, { workers: 0 });
  const port = await freePort();
  const workerHome = join(farm.home, '..', 'workers', 'w1');
  mkdirSync(workerHome, { recursive: true });
  writeFileSync(join(workerHome, 'network.cfg'), `[IO Priority]\nPort = ${port}\n`);
  const io = new IoPriority({ port, listen: '127.0.0.1', program: 'review session' });
  t.after(() => io.close());
  await io.open();
  farm.addWorker('w1');
  await waitFor(async () => (await farm.api('GET', '/workers')).body.workers[0]?.status === 'awake', {
    timeoutMs: 30 * SECOND,
    what: 'the worker to sign on',
  });

  const output = join(dir, 'out.mp4');
  const submitted = await farm.api('POST', '/jobs', {
    name: 'transcode under a hold',
    type: 'transcode',
    settings: {
      input: source,
      output,
      videoCodec: 'h264',
      audioCodec: 'none',
      preset: 'veryslow',
      extraArgs: ['-threads', '1'],
    },
  });
  assert.equal(submitted.status, 201, JSON.stringify(submitted.body));
  const jobId = submitted.body.id as string;
  const task = async () =>
    (await farm.api('GET', `/jobs/${jobId}/tasks`)).body.tasks[0] as { id: string; activity: string; status: string };
  await waitFor(async () => /frame \d+/.test((await task()).activity), {
    timeoutMs: 60 * SECOND,
    what: 'ffmpeg to encode',
  });
  const hold = await io.hold();
  await waitFor(async () => (await task()).activity === 'paused for I/O priority', {
    timeoutMs: 10 * SECOND,
    what: 'the task to show the pause',
  });
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.equal((await task()).status, 'active');
  await hold.release();

  const job = await waitForJob(farm, jobId);
  assert.equal(job.status, 'completed');
  const log = (await farm.api('GET', `/tasks/${(await task()).id}/log`)).body as string;
  assert.match(log, /paused for I\/O priority: a foreground application holds the storage/);
  assert.match(log, /resumed after \d+\.\d s paused for I\/O priority/);
  assert.match(log, /paused for I\/O priority once, \d+\.\d s in all/);
  const decoded = spawnSync(ffmpeg, ['-v', 'error', '-i', output, '-f', 'framemd5', '-'], { encoding: 'utf8' });
  assert.equal(decoded.status, 0, decoded.stderr);
  assert.equal(decoded.stderr, '', 'decodes without errors');
  assert.equal(
    decoded.stdout.split('\n').filter((line) => /^\d/.test(line)).length,
    200,
    'every frame of 8 s at 25 fps',
  );
});
