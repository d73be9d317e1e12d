/**
 * A worker's task under I/O priority, with a real listener, a real gate and real ffmpeg: the
 * program is stopped while held and continued after, the video is the same as an unpaused one,
 * and the task's activity and log tell about the pause.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import pino from 'pino';
import { locateFfmpeg } from '../media/ffmpeg.js';
import { IoPriority, IoPriorityGate } from '../io/index.js';
import type { AssignedTask, TaskUpdate } from '../client/types.js';
import { freePort, makeTempDir } from '../testing/temp.js';
import { waitFor } from '../util/time.js';
import { PAUSED_ACTIVITY } from './io-pause.js';
import { runTask, type TaskRunnerDeps } from './task-runner.js';

const TASK_ID = '44444444-4444-4444-8444-444444444444';

/** What the runner reports, as the manager would see it. */
class Reports {
  readonly logs: string[] = [];
  readonly activities: string[] = [];
  readonly statuses: string[] = [];
  send(_taskId: string, update: Omit<TaskUpdate, 'seq'>): Promise<void> {
    if (update.status) this.statuses.push(update.status);
    this.logs.push(...(update.log ?? []));
    return Promise.resolve();
  }
  log(_taskId: string, ...lines: string[]): void {
    this.logs.push(...lines);
  }
  progress(_taskId: string, _value: number, activity?: string): void {
    if (activity !== undefined) this.activities.push(activity);
  }
  activity(_taskId: string, text: string): void {
    this.activities.push(text);
  }
  flush(): Promise<void> {
    return Promise.resolve();
  }
  beginTask(): void {}
  watchDrop(): () => void {
    return () => undefined;
  }
}

function ffmpegArgs(output: string, realTime: boolean): string[] {
  return [
    '-nostdin',
    '-y',
    ...(realTime ? ['-re'] : []),
    '-f',
    'lavfi',
    '-i',
    'testsrc=duration=3:size=320x240:rate=25',
    '-c:v',
    'libx264',
    '-threads',
    '1',
    '-pix_fmt',
    'yuv420p',
    output,
  ];
}

/** The decoded frames' checksums: equal lists mean the same pictures. */
function frameSums(ffmpeg: string, file: string): string[] {
  const result = spawnSync(ffmpeg, ['-v', 'error', '-i', file, '-f', 'framemd5', '-'], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.split('\n').filter((line) => /^\d/.test(line));
}

function processState(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
  } catch {
    return undefined;
  }
}

/** What runTask needs here: reports collected, the programs' pids noted, the gate of the test. */
function runnerDeps(
  gate: IoPriorityGate,
  killGraceMs: number,
): { deps: TaskRunnerDeps; reports: Reports; pids: number[] } {
  const reports = new Reports();
  const pids: number[] = [];
  const deps: TaskRunnerDeps = {
    queue: reports,
    mayIRun: async () => ({ mayKeepRunning: true, reason: '', statusRequested: null }),
    uploadPreview: async () => undefined,
    logger: pino({ level: 'silent' }),
    workerName: 'w1',
    tools: {},
    killGraceMs,
    mayIRunIntervalMs: 60_000,
    processGroups: {
      track: (pid) => {
        pids.push(pid);
        return () => undefined;
      },
    },
    ioGate: gate,
  };
  return { deps, reports, pids };
}

async function holdAndGate(t: TestContext): Promise<{ io: IoPriority; gate: IoPriorityGate }> {
  const port = await freePort();
  const io = new IoPriority({ port, listen: '127.0.0.1', program: 'playback' });
  t.after(() => io.close());
  await io.open();
  const gate = new IoPriorityGate({ targets: [{ host: '127.0.0.1', port }], program: 'worker' });
  t.after(() => gate.close());
  await gate.start();
  return { io, gate };
}

describe('a worker task under I/O priority', () => {
  it('ffmpeg is stopped while held and continued after; the video is correct and the log shows the pause', async (t) => {
    const dir = makeTempDir(t, 'kiln-io-ffmpeg-');
    const ffmpeg = locateFfmpeg().path;
    const { io, gate } = await holdAndGate(t);
    const { deps, reports, pids } = runnerDeps(gate, 500);
    const output = join(dir, 'held.mp4');
    const task: AssignedTask = {
      id: TASK_ID,
      jobId: TASK_ID,
      jobName: 'job',
      jobType: 'transcode',
      name: 'encode',
      type: 'video',
      priority: 50,
      commands: [{ name: 'ffmpeg', parameters: { args: ffmpegArgs(output, true), output, durationSeconds: 3 } }],
    };
    const running = runTask(task, deps, new AbortController().signal);
    await waitFor(() => reports.activities.some((text) => /frame \d+/.test(text)), { what: 'ffmpeg to encode' });
    const pid = pids[0] ?? 0;
    const hold = await io.hold();
    await waitFor(() => processState(pid) === 'T', { what: 'ffmpeg to be stopped' });
    assert.equal(reports.activities.at(-1), PAUSED_ACTIVITY);
    const heldSize = statSync(output, { throwIfNoEntry: false })?.size ?? 0;
    await new Promise((resolve) => setTimeout(resolve, 700));
    assert.equal(statSync(output, { throwIfNoEntry: false })?.size ?? 0, heldSize, 'nothing written while held');
    assert.equal(processState(pid), 'T');
    await hold.release();
    const outcome = await running;
    assert.deepEqual(outcome, { result: 'completed' });
    assert.ok(reports.logs.some((line) => line.startsWith(`${PAUSED_ACTIVITY}: a foreground application`)));
    assert.ok(
      reports.logs.some((line) => /^resumed after \d+\.\d s paused for I\/O priority$/.test(line)),
      reports.logs.join('\n'),
    );
    assert.ok(reports.logs.some((line) => /^paused for I\/O priority once, \d+\.\d s in all$/.test(line)));

    // The same encode without a hold gives the same pictures.
    const reference = join(dir, 'reference.mp4');
    assert.equal(spawnSync(ffmpeg, ffmpegArgs(reference, false), { stdio: 'ignore' }).status, 0);
    const sums = frameSums(ffmpeg, output);
    assert.equal(sums.length, 75, 'every frame of 3 s at 25 fps');
    assert.deepEqual(sums, frameSums(ffmpeg, reference));
  });

  it('copy-file waits at the gate: nothing is copied while held, all of it after', async (t) => {
    const dir = makeTempDir(t, 'kiln-io-copy-cmd-');
    const { io, gate } = await holdAndGate(t);
    const source = join(dir, 'source.bin');
    writeFileSync(source, Buffer.alloc(8 * 1024 * 1024, 7));
    const hold = await io.hold();
    await waitFor(() => gate.paused);
    const { deps, reports } = runnerDeps(gate, 500);
    const dest = join(dir, 'out', 'copy.bin');
    const task: AssignedTask = {
      id: TASK_ID,
      jobId: TASK_ID,
      jobName: 'job',
      jobType: 'command',
      name: 'copy',
      type: 'misc',
      priority: 50,
      commands: [{ name: 'copy-file', parameters: { src: source, dest } }],
    };
    const running = runTask(task, deps, new AbortController().signal);
    await waitFor(() => reports.activities.includes(PAUSED_ACTIVITY), { what: 'the pause to show' });
    assert.equal(statSync(dest, { throwIfNoEntry: false }), undefined, 'not there yet');
    await hold.release();
    assert.deepEqual(await running, { result: 'completed' });
    assert.deepEqual(readFileSync(dest), readFileSync(source));
    assert.ok(
      reports.logs.some((line) => /^paused for I\/O priority once/.test(line)),
      reports.logs.join('\n'),
    );
  });

  it('a task stopped while its program is paused for I/O priority: the program still gets its SIGTERM', async (t) => {
    const dir = makeTempDir(t, 'kiln-io-abort-');
    const { io, gate } = await holdAndGate(t);
    const marker = join(dir, 'got-sigterm');
    const script = `process.on('SIGTERM', () => { require('fs').writeFileSync(${JSON.stringify(marker)}, 'yes'); process.exit(0); }); setInterval(() => {}, 1000); console.log('up');`;
    const { deps, reports, pids } = runnerDeps(gate, 5000);
    const task: AssignedTask = {
      id: TASK_ID,
      jobId: TASK_ID,
      jobName: 'job',
      jobType: 'command',
      name: 'long',
      type: 'misc',
      priority: 50,
      commands: [{ name: 'exec', parameters: { argv: [process.execPath, '-e', script] } }],
    };
    const shutdown = new AbortController();
    const running = runTask(task, deps, shutdown.signal);
    await waitFor(() => reports.logs.includes('up'), { what: 'the program to start' });
    await io.hold();
    await waitFor(() => processState(pids[0] ?? 0) === 'T', { what: 'the program to be stopped' });
    shutdown.abort();
    assert.deepEqual(await running, { result: 'requeued' });
    assert.equal(readFileSync(marker, 'utf8'), 'yes', 'it was continued and handled SIGTERM (no SIGKILL needed)');
    assert.ok(
      reports.logs.some((line) => /^paused for I\/O priority once/.test(line)),
      reports.logs.join('\n'),
    );
  });
});
