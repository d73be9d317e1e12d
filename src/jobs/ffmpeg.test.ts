import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import { MAX_VIDEO_RUNS, sequenceToVideoCommand, toFfmpegPattern, videoCodecArgs } from './ffmpeg.js';
import { parseFrameRange } from './frame-range.js';
import type { CommandParameters } from './types.js';

const ffmpegArgs = (spec: Parameters<typeof sequenceToVideoCommand>[0]): CommandParameters<'ffmpeg'> => {
  const command = sequenceToVideoCommand(spec);
  assert.equal(command.name, 'ffmpeg');
  return command.parameters as CommandParameters<'ffmpeg'>;
};

test('toFfmpegPattern', () => {
  const cases: Array<[string, string]> = [
    ['/out/frames/frame_####.png', '/out/frames/frame_%04d.png'],
    ['/out/100%/f_##.exr', '/out/100%%/f_%02d.exr'],
    ['/a#b/frame_######.png', '/a#b/frame_%06d.png'],
    ['/out/frames/frame_%04d.png', '/out/frames/frame_%04d.png'],
    ['/out/frames', '/out/frames/frame_%04d.png'],
    ['C:\\out\\frames', 'C:\\out\\frames\\frame_%04d.png'],
  ];
  for (const [pattern, expected] of cases) assert.equal(toFfmpegPattern(pattern), expected, pattern);
});

test('one run of frames: start number and exact frame count', () => {
  const parameters = ffmpegArgs({
    input: '/o/frame_%04d.png',
    output: '/o/v.mp4',
    fps: 25,
    frames: parseFrameRange('10-59'),
  });
  assert.deepEqual(parameters.args, [
    '-nostdin',
    '-hide_banner',
    '-y',
    '-framerate',
    '25',
    '-start_number',
    '10',
    '-i',
    '/o/frame_%04d.png',
    '-frames:v',
    '50',
    '-vf',
    'pad=ceil(iw/2)*2:ceil(ih/2)*2',
    '-c:v',
    'libx264',
    '-pix_fmt',
    'yuv420p',
    '-movflags',
    '+faststart',
    '/o/v.mp4',
  ]);
  assert.equal(parameters.durationSeconds, 2);
  assert.equal(parameters.output, '/o/v.mp4');
});

test('frames with gaps: one trimmed input per run, joined by concat', () => {
  const { args } = ffmpegArgs({
    input: '/o/f_%04d.png',
    output: '/o/v.mp4',
    fps: 24,
    frames: parseFrameRange('1-4,9,10,20'),
  });
  assert.deepEqual(args.slice(3, 21), [
    '-framerate',
    '24',
    '-start_number',
    '1',
    '-i',
    '/o/f_%04d.png',
    '-framerate',
    '24',
    '-start_number',
    '9',
    '-i',
    '/o/f_%04d.png',
    '-framerate',
    '24',
    '-start_number',
    '20',
    '-i',
    '/o/f_%04d.png',
  ]);
  const graph = args[args.indexOf('-filter_complex') + 1];
  assert.equal(
    graph,
    '[0:v]trim=end_frame=4[s0];[1:v]trim=end_frame=2[s1];[2:v]trim=end_frame=1[s2];[s0][s1][s2]concat=n=3:v=1:a=0,pad=ceil(iw/2)*2:ceil(ih/2)*2[video]',
  );
  assert.equal(args[args.indexOf('-map') + 1], '[video]');
});

test("too many separate runs is the submitter's to fix", () => {
  const frames = Array.from({ length: MAX_VIDEO_RUNS + 1 }, (_, index) => index * 2);
  assert.throws(
    () => sequenceToVideoCommand({ input: 'x_%04d.png', output: 'v.mp4', fps: 24, frames }),
    (error: unknown) =>
      error instanceof UserError && error.field === 'frames' && /101 separate runs/.test(error.message),
  );
  const fine = Array.from({ length: MAX_VIDEO_RUNS }, (_, index) => index * 2);
  assert.doesNotThrow(() => sequenceToVideoCommand({ input: 'x_%04d.png', output: 'v.mp4', fps: 24, frames: fine }));
});

test('without frames ffmpeg finds the sequence itself', () => {
  const parameters = ffmpegArgs({ input: '/o/f_%04d.png', output: '/o/v.webm', fps: 30, codec: 'vp9' });
  assert.deepEqual(parameters.args.slice(3, 11), [
    '-framerate',
    '30',
    '-start_number_range',
    '10000',
    '-i',
    '/o/f_%04d.png',
    '-vf',
    'pad=ceil(iw/2)*2:ceil(ih/2)*2',
  ]);
  assert.equal(parameters.durationSeconds, undefined);
});

test('videoCodecArgs', () => {
  assert.deepEqual(videoCodecArgs('h264', 'a.mkv', 18), ['-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-crf', '18']);
  assert.deepEqual(videoCodecArgs('h265', 'a.mov'), [
    '-c:v',
    'libx265',
    '-pix_fmt',
    'yuv420p',
    '-tag:v',
    'hvc1',
    '-movflags',
    '+faststart',
  ]);
  assert.deepEqual(videoCodecArgs('vp9', 'a.webm'), [
    '-c:v',
    'libvpx-vp9',
    '-pix_fmt',
    'yuv420p',
    '-b:v',
    '0',
    '-crf',
    '31',
  ]);
});

/** The ffmpeg binary the project ships (a dependency), when installed for this platform. */
async function findFfmpeg(): Promise<string | undefined> {
  try {
    const installer = (await import('@ffmpeg-installer/ffmpeg')).default;
    return spawnSync(installer.path, ['-version']).status === 0 ? installer.path : undefined;
  } catch {
    return undefined;
  }
}

test('the video holds exactly the requested frames, in order, ignoring stale files', async (t) => {
  const ffmpeg = await findFfmpeg();
  if (!ffmpeg) return t.skip('no ffmpeg binary for this platform');
  const dir = mkdtempSync(join(tmpdir(), 'kiln-ffmpeg-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const framesDir = join(dir, 'frames 100%');
  mkdirSync(framesDir);
  const input = toFfmpegPattern(join(framesDir, 'frame_####.png'));
  // 30 distinct frames of an odd size; the job asks for some of them only.
  const make = spawnSync(ffmpeg, [
    '-nostdin',
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    'testsrc=size=101x51:rate=24',
    '-frames:v',
    '30',
    '-start_number',
    '1',
    input,
  ]);
  assert.equal(make.status, 0, make.stderr.toString());

  const wanted = parseFrameRange('2-5,9,10,20-22');
  const { args } = ffmpegArgs({ input, output: join(dir, 'out.mp4'), fps: 24, frames: wanted });
  const md5s = (output: string): string[] =>
    output
      .split('\n')
      .filter((line) => line && !line.startsWith('#'))
      .map((line) => line.split(',').at(-1)!.trim());

  // Decode through the same inputs and filters, then hash the frames instead of encoding.
  const probe = [...args.slice(0, args.indexOf('-c:v')), '-pix_fmt', 'rgb24', '-f', 'framemd5', '-'];
  const got = spawnSync(ffmpeg, probe);
  assert.equal(got.status, 0, got.stderr.toString());
  const expected = wanted.flatMap((frame) => {
    const file = join(framesDir, `frame_${String(frame).padStart(4, '0')}.png`);
    const one = spawnSync(ffmpeg, [
      '-nostdin',
      '-v',
      'error',
      '-pattern_type',
      'none',
      '-i',
      file,
      '-vf',
      'pad=ceil(iw/2)*2:ceil(ih/2)*2',
      '-pix_fmt',
      'rgb24',
      '-f',
      'framemd5',
      '-',
    ]);
    assert.equal(one.status, 0, one.stderr.toString());
    return md5s(one.stdout.toString());
  });
  assert.equal(expected.length, wanted.length);
  assert.deepEqual(md5s(got.stdout.toString()), expected);

  // The real command encodes an MP4 with that many frames (padded to even dimensions).
  const encode = spawnSync(ffmpeg, args);
  assert.equal(encode.status, 0, encode.stderr.toString());
  const count = spawnSync(ffmpeg, ['-nostdin', '-i', join(dir, 'out.mp4'), '-f', 'null', '-']);
  const frames = [...count.stderr.toString().matchAll(/frame=\s*(\d+)/g)].at(-1)?.[1];
  assert.equal(Number(frames), wanted.length);
  assert.match(count.stderr.toString(), /102x52/);
});
