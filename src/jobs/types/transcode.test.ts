import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../../util/errors.js';
import { checkCompiledTasks } from '../compiled-tasks.js';
import type { JobToCompile } from '../types.js';
import { transcodeJobType } from './transcode.js';

const job = (settings: Record<string, unknown>): JobToCompile => ({
  id: 'job-3',
  name: 'proxy',
  type: 'transcode',
  priority: 50,
  settings,
});

const argsOf = (settings: Record<string, unknown>): string[] => {
  const tasks = transcodeJobType.compile(job(settings));
  checkCompiledTasks('transcode', tasks);
  assert.deepEqual(
    tasks.map((task) => [task.name, task.type, task.dependsOn]),
    [['transcode', 'video', []]],
  );
  const ffmpeg = tasks[0]!.commands.at(-1)!;
  assert.ok(ffmpeg.name === 'ffmpeg');
  return ffmpeg.name === 'ffmpeg' ? ffmpeg.parameters.args : [];
};

test('transcode builds one ffmpeg command', () => {
  const head = ['-nostdin', '-hide_banner', '-y', '-i', '/in/a.mov'];
  const cases: Array<[Record<string, unknown>, string[]]> = [
    [{}, ['-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', '-c:a', 'aac', '/out/a.mp4']],
    [
      { crf: 20, preset: 'slow', width: 1280, audioBitrate: '192k' },
      [
        '-c:v',
        'libx264',
        '-pix_fmt',
        'yuv420p',
        '-crf',
        '20',
        '-movflags',
        '+faststart',
        '-preset',
        'slow',
        '-vf',
        'scale=1280:-2',
        '-c:a',
        'aac',
        '-b:a',
        '192k',
        '/out/a.mp4',
      ],
    ],
    [{ videoCodec: 'copy', audioCodec: 'none' }, ['-c:v', 'copy', '-an', '/out/a.mp4']],
    [{ videoCodec: 'none', audioCodec: 'opus', output: '/out/a.opus' }, ['-vn', '-c:a', 'libopus', '/out/a.opus']],
    [
      { videoCodec: 'prores', audioCodec: 'copy', output: '/out/a.mov', height: 540 },
      [
        '-c:v',
        'prores_ks',
        '-profile:v',
        '3',
        '-pix_fmt',
        'yuv422p10le',
        '-vf',
        'scale=-2:540',
        '-c:a',
        'copy',
        '/out/a.mov',
      ],
    ],
    [
      { extraArgs: ['-t', '10'], audioCodec: 'none', output: '/out/a.mkv' },
      ['-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-an', '-t', '10', '/out/a.mkv'],
    ],
  ];
  for (const [settings, tail] of cases) {
    assert.deepEqual(
      argsOf({ input: '/in/a.mov', output: '/out/a.mp4', ...settings }),
      [...head, ...tail],
      JSON.stringify(settings),
    );
  }
});

test('transcode makes the output folder first', () => {
  const tasks = transcodeJobType.compile(job({ input: '/in/a.mov', output: '/out/proxies/a.mp4' }));
  assert.deepEqual(tasks[0]!.commands[0], { name: 'make-directory', parameters: { path: '/out/proxies' } });
});

test('transcode refuses settings that contradict each other', () => {
  const base = { input: '/in/a.mov', output: '/out/a.mp4' };
  const cases: Array<[Record<string, unknown>, string, RegExp]> = [
    [{ videoCodec: 'none', audioCodec: 'none' }, 'settings.videoCodec', /cannot both be none/],
    [{ videoCodec: 'copy', crf: 20 }, 'settings.crf', /cannot be used with videoCodec copy/],
    [{ crf: 55 }, 'settings.crf', /at most 51/],
    [{ videoCodec: 'vp9', preset: 'slow' }, 'settings.preset', /only applies to videoCodec h264 or h265/],
    [{ videoCodec: 'copy', width: 640 }, 'settings.width', /needs a video codec that encodes/],
    [{ audioCodec: 'copy', audioBitrate: '128k' }, 'settings.audioBitrate', /cannot be used with audioCodec copy/],
    [{ audioBitrate: 'loud' }, 'settings.audioBitrate', /must be a bit rate like 192k/],
    [{ videoCodec: 'mpeg2' }, 'settings.videoCodec', /must be one of h264, h265, vp9, prores, copy, none/],
  ];
  for (const [settings, field, message] of cases) {
    assert.throws(
      () => transcodeJobType.compile(job({ ...base, ...settings })),
      (error: unknown) => error instanceof UserError && error.field === field && message.test(error.message),
      field,
    );
  }
});
