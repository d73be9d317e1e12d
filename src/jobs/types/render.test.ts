import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../../util/errors.js';
import { checkCompiledTasks } from '../compiled-tasks.js';
import type { CompiledTask, JobToCompile } from '../types.js';
import { renderJobType } from './render.js';

const job = (overrides: Partial<JobToCompile> = {}): JobToCompile => ({
  id: 'job-1',
  name: 'Shot 010 / comp',
  type: 'render',
  priority: 50,
  settings: { output: '/farm/out' },
  frames: '1..10,20..25,40,3..8',
  ...overrides,
});

const compile = (overrides: Partial<JobToCompile> = {}): CompiledTask[] => {
  const tasks = renderJobType.compile(job(overrides));
  checkCompiledTasks('render', tasks);
  return tasks;
};

test('render with the built-in renderer: one task per chunk, then a video task depending on all', () => {
  const tasks = compile();
  assert.deepEqual(
    tasks.map((task) => [task.name, task.type, task.dependsOn]),
    [
      ['render 1-4', 'render', []],
      ['render 5-8', 'render', []],
      ['render 9,10,20,21', 'render', []],
      ['render 22-25', 'render', []],
      ['render 40', 'render', []],
      ['frames-to-video', 'video', [0, 1, 2, 3, 4]],
    ],
  );
  assert.deepEqual(tasks[2]!.commands, [
    { name: 'make-directory', parameters: { path: '/farm/out/frames' } },
    {
      name: 'render-frames',
      parameters: { frames: [9, 10, 20, 21], width: 1280, height: 720, output: '/farm/out/frames/frame_####.png' },
    },
  ]);
  const video = tasks.at(-1)!.commands;
  assert.equal(video.length, 1);
  assert.equal(video[0]!.name, 'ffmpeg');
  if (video[0]!.name !== 'ffmpeg') return;
  const { args, output, durationSeconds } = video[0]!.parameters;
  assert.equal(output, '/farm/out/Shot_010_comp.mp4');
  assert.equal(args.at(-1), '/farm/out/Shot_010_comp.mp4');
  assert.equal(durationSeconds, 17 / 24);
  // Three runs of frames (1-10, 20-25, 40) become three inputs joined by concat.
  assert.deepEqual(
    args.filter((_, index) => args[index - 1] === '-start_number'),
    ['1', '20', '40'],
  );
  assert.ok(args.includes('-filter_complex'));
  assert.deepEqual(args.slice(args.indexOf('-c:v'), args.indexOf('-c:v') + 4), [
    '-c:v',
    'libx264',
    '-pix_fmt',
    'yuv420p',
  ]);
});

test('contiguous frames use one image2 input: -framerate fps -start_number first -frames:v count', () => {
  const tasks = compile({
    frames: '101-148',
    settings: { output: '/o', fps: 25, width: 640, height: 360, scene: 'logo' },
  });
  assert.equal(tasks.length, 13);
  assert.deepEqual(tasks.at(-1)!.dependsOn, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  assert.deepEqual(tasks[0]!.commands[1], {
    name: 'render-frames',
    parameters: {
      frames: [101, 102, 103, 104],
      width: 640,
      height: 360,
      output: '/o/frames/frame_####.png',
      scene: 'logo',
    },
  });
  const ffmpeg = tasks.at(-1)!.commands[0]!;
  assert.equal(ffmpeg.name, 'ffmpeg');
  if (ffmpeg.name !== 'ffmpeg') return;
  const { args } = ffmpeg.parameters;
  const input = args.indexOf('-i');
  assert.deepEqual(args.slice(input - 4, input + 4), [
    '-framerate',
    '25',
    '-start_number',
    '101',
    '-i',
    '/o/frames/frame_%04d.png',
    '-frames:v',
    '48',
  ]);
  assert.ok(!args.includes('-filter_complex'));
});

test('render with Blender, paths inside the job storage', () => {
  const tasks = compile({
    frames: '1-6',
    chunkSize: 3,
    settings: { renderer: 'blender', blendFile: 'shot.blend', output: 'render', scene: 'Main', video: false },
    storage: { effectivePath: '/farm/jobs/job-1' },
  });
  assert.deepEqual(
    tasks,
    [1, 4].map((first) => ({
      name: `render ${first}-${first + 2}`,
      type: 'render',
      commands: [
        { name: 'make-directory', parameters: { path: '/farm/jobs/job-1/render/frames' } },
        {
          name: 'blender',
          parameters: {
            blendFile: '/farm/jobs/job-1/shot.blend',
            frames: [first, first + 1, first + 2],
            output: '/farm/jobs/job-1/render/frames/frame_####.png',
            format: 'PNG',
            args: ['-S', 'Main'],
          },
        },
      ],
      dependsOn: [],
    })),
  );
});

test('chunk sizes', () => {
  const cases: Array<[number | undefined, number]> = [
    [undefined, 25],
    [1, 100],
    [7, 15],
    [100, 1],
    [1000, 1],
  ];
  for (const [chunkSize, renderTasks] of cases) {
    const tasks = compile({
      frames: '1-100',
      ...(chunkSize === undefined ? {} : { chunkSize }),
      settings: { output: '/o', video: false },
    });
    assert.equal(tasks.length, renderTasks, String(chunkSize));
  }
});

test('Windows output folders keep backslashes', () => {
  const tasks = compile({ frames: '1-2', settings: { output: 'S:\\renders\\shot' } });
  assert.deepEqual(tasks[0]!.commands[0], {
    name: 'make-directory',
    parameters: { path: 'S:\\renders\\shot\\frames' },
  });
  const ffmpeg = tasks[1]!.commands[0]!;
  assert.ok(ffmpeg.name === 'ffmpeg' && ffmpeg.parameters.args.includes('S:\\renders\\shot\\frames\\frame_%04d.png'));
});

test('render refuses what it cannot compile', () => {
  const cases: Array<[Partial<JobToCompile>, string, RegExp]> = [
    [{ frames: undefined }, 'frames', /needs frames/],
    [{ frames: ' ' }, 'frames', /needs frames/],
    [{ frames: '10-1' }, 'frames', /range 10-1 runs backwards/],
    [{ frames: '1048570-1048575' }, 'frames', /frame 1048575 is past 1048574/],
    [{ chunkSize: 0 }, 'chunk', /chunk size/],
    [{ settings: {} }, 'settings.output', /is required/],
    [
      { settings: { output: '/o', renderer: 'blender' } },
      'settings.blendFile',
      /required when settings.renderer is blender/,
    ],
    [{ settings: { output: '/o', width: 1.5 } }, 'settings.width', /must be an integer/],
    [{ frames: Array.from({ length: 101 }, (_, index) => index * 2).join(',') }, 'frames', /separate runs/],
  ];
  for (const [overrides, field, message] of cases) {
    assert.throws(
      () => renderJobType.compile(job(overrides)),
      (error: unknown) => error instanceof UserError && error.field === field && message.test(error.message),
      field,
    );
  }
});

test('gappy frames are fine without a video', () => {
  const frames = Array.from({ length: 101 }, (_, index) => index * 2).join(',');
  assert.equal(compile({ frames, settings: { output: '/o', video: false } }).length, 26);
});
