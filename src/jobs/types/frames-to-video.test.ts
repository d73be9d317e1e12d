import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../../util/errors.js';
import { checkCompiledTasks } from '../compiled-tasks.js';
import type { JobToCompile } from '../types.js';
import { framesToVideoJobType } from './frames-to-video.js';

const job = (overrides: Partial<JobToCompile> = {}): JobToCompile => ({
  id: 'job-2',
  name: 'review',
  type: 'frames-to-video',
  priority: 50,
  settings: { input: '/farm/out/frames', output: '/farm/review/shot.mp4' },
  ...overrides,
});

test('frames-to-video compiles to one video task', () => {
  const tasks = framesToVideoJobType.compile(job({ frames: '1-48' }));
  checkCompiledTasks('frames-to-video', tasks);
  assert.deepEqual(
    tasks.map((task) => [task.name, task.type, task.dependsOn]),
    [['frames-to-video', 'video', []]],
  );
  const [mkdir, ffmpeg] = tasks[0]!.commands;
  assert.deepEqual(mkdir, { name: 'make-directory', parameters: { path: '/farm/review' } });
  assert.equal(ffmpeg?.name, 'ffmpeg');
  if (ffmpeg?.name !== 'ffmpeg') return;
  assert.deepEqual(ffmpeg.parameters.args, [
    '-nostdin',
    '-hide_banner',
    '-y',
    '-framerate',
    '24',
    '-start_number',
    '1',
    '-i',
    '/farm/out/frames/frame_%04d.png',
    '-frames:v',
    '48',
    '-vf',
    'pad=ceil(iw/2)*2:ceil(ih/2)*2',
    '-c:v',
    'libx264',
    '-pix_fmt',
    'yuv420p',
    '-movflags',
    '+faststart',
    '/farm/review/shot.mp4',
  ]);
  assert.equal(ffmpeg.parameters.durationSeconds, 2);
});

test('input patterns, codecs and relative paths', () => {
  const cases: Array<[Record<string, unknown>, string, string[]]> = [
    [
      { input: 'shots/a_####.exr', output: 'a.mov', codec: 'h265', crf: 20 },
      '/farm/jobs/j/shots/a_%04d.exr',
      ['-c:v', 'libx265', '-pix_fmt', 'yuv420p', '-crf', '20', '-tag:v', 'hvc1'],
    ],
    [
      { input: '/x/f.%05d.png', output: '/x/v.webm', codec: 'vp9', fps: 30 },
      '/x/f.%05d.png',
      ['-c:v', 'libvpx-vp9', '-pix_fmt', 'yuv420p', '-b:v', '0', '-crf', '31'],
    ],
  ];
  for (const [settings, input, codec] of cases) {
    const tasks = framesToVideoJobType.compile(job({ settings, storage: { effectivePath: '/farm/jobs/j' } }));
    const ffmpeg = tasks[0]!.commands.at(-1)!;
    assert.ok(ffmpeg.name === 'ffmpeg');
    if (ffmpeg.name !== 'ffmpeg') continue;
    const { args } = ffmpeg.parameters;
    assert.equal(args[args.indexOf('-i') + 1], input);
    const start = args.indexOf('-c:v');
    assert.deepEqual(args.slice(start, start + codec.length), codec);
    assert.ok(args.includes('-start_number_range'), 'without frames ffmpeg searches for the first file');
  }
});

test('frames-to-video settings errors', () => {
  const cases: Array<[Record<string, unknown>, string, RegExp]> = [
    [{ output: '/o.mp4' }, 'settings.input', /is required/],
    [{ input: '/i', output: '/o.mp4', codec: 'av1' }, 'settings.codec', /must be one of h264, h265, vp9/],
    [{ input: '/i', output: '/o.mp4', crf: 60 }, 'settings.crf', /at most 51 with codec h264/],
    [{ input: '/i', output: '/o.mp4', fps: -1 }, 'settings.fps', /greater than 0/],
  ];
  for (const [settings, field, message] of cases) {
    assert.throws(
      () => framesToVideoJobType.compile(job({ settings })),
      (error: unknown) => error instanceof UserError && error.field === field && message.test(error.message),
      field,
    );
  }
});
