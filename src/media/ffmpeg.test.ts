import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderFrames } from '../render/render.js';
import { UserError } from '../util/errors.js';
import {
  locateFfmpeg,
  npmFfmpegPath,
  parseFfmpegDuration,
  parseFfmpegProgress,
  type FfmpegProgress,
} from './ffmpeg.js';
import { LineSplitter } from './lines.js';

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-ffmpeg-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs a program; every stdout and stderr line (split on \r too) goes to onLine. */
function runLines(
  program: string,
  args: string[],
  onLine: (line: string, stream: 'stdout' | 'stderr') => void,
): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = new LineSplitter((line) => onLine(line, 'stdout'));
    const err = new LineSplitter((line) => onLine(line, 'stderr'));
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      out.end();
      err.end();
      resolve(code);
    });
  });
}

describe('parseFfmpegProgress', () => {
  it('reads stats lines', () => {
    const line = 'frame=   24 fps=0.0 q=-1.0 Lsize=       9kB time=00:00:00.87 bitrate=  87.1kbits/s speed=20.8x    ';
    assert.deepEqual(parseFfmpegProgress(line), { final: true, frame: 24, seconds: 0.87, fps: 0, speed: 20.8 });
    const mid = parseFfmpegProgress(
      'frame=  120 fps= 30 q=28.0 size=     256kB time=00:01:02.50 bitrate= 33.5kbits/s speed=1.02x',
      125,
    );
    assert.equal(mid?.frame, 120);
    assert.equal(mid?.seconds, 62.5);
    assert.equal(mid?.percent, 50);
    assert.equal(mid?.final, false);
    assert.equal(mid?.fps, 30);
    assert.equal(mid?.speed, 1.02);
  });

  it('handles ffmpeg 6/7 lines, audio-only lines, N/A and negative times', () => {
    const v7 = parseFfmpegProgress(
      'frame=   48 fps=0.0 q=-1.0 Lsize=      60KiB time=00:00:01.91 bitrate= 256.3kbits/s speed=9.5x elapsed=0:00:00.20',
      2,
    );
    assert.equal(v7?.seconds, 1.91);
    assert.equal(v7?.percent, 95.5);
    assert.equal(
      parseFfmpegProgress('size=     512kB time=01:00:00.00 bitrate= 128.0kbits/s speed=50x', 7200)?.percent,
      50,
    );
    assert.deepEqual(parseFfmpegProgress('frame=    0 fps=0.0 q=0.0 size=       0kB time=N/A bitrate=N/A speed=N/A'), {
      final: false,
      frame: 0,
      fps: 0,
    });
    assert.equal(
      parseFfmpegProgress('frame=    1 fps=0.0 q=0.0 size=0kB time=-00:00:00.04 bitrate=N/A', 10)?.seconds,
      0,
    );
    assert.equal(parseFfmpegProgress('frame=1 time=00:00:20.00', 10)?.percent, 100); // clamped
    assert.equal(parseFfmpegProgress('frame=1 time=00:00:20.00', 0)?.percent, undefined);
  });

  it('reads -progress key=value lines', () => {
    assert.deepEqual(parseFfmpegProgress('frame=24'), { final: false, frame: 24 });
    assert.deepEqual(parseFfmpegProgress('out_time=00:00:01.000000', 2), { final: false, seconds: 1, percent: 50 });
    assert.deepEqual(parseFfmpegProgress('out_time_us=1500000', 3), { final: false, seconds: 1.5, percent: 50 });
    assert.deepEqual(parseFfmpegProgress('out_time_ms=1500000'), { final: false, seconds: 1.5 });
    assert.deepEqual(parseFfmpegProgress('progress=end'), { final: true });
    assert.equal(parseFfmpegProgress('progress=continue'), undefined);
    assert.equal(parseFfmpegProgress('out_time_us=N/A'), undefined);
  });

  it('ignores other lines', () => {
    for (const line of [
      '',
      'ffmpeg version 5.1.9-0+deb12u1 Copyright (c) 2000-2026 the FFmpeg developers',
      '  Duration: 00:00:01.00, start: 0.000000, bitrate: N/A',
      '    Stream #0:0: Video: png, rgb24(pc), 160x90, 24 fps, 24 tbr, 24 tbn',
      '[libx264 @ 0x10dfe300] frame I:1     Avg QP:19.83  size:  2380',
      'video:13kB audio:0kB subtitle:0kB other streams:0kB global headers:0kB muxing overhead: unknown',
      'runtime=00:00:01.00',
    ]) {
      assert.equal(parseFfmpegProgress(line), undefined, line);
    }
  });
});

describe('parseFfmpegDuration', () => {
  it('reads Duration lines', () => {
    assert.equal(parseFfmpegDuration('  Duration: 00:00:01.00, start: 0.000000, bitrate: N/A'), 1);
    assert.equal(parseFfmpegDuration('  Duration: 01:02:03.50, start: 0.000000, bitrate: 5000 kb/s'), 3723.5);
    assert.equal(parseFfmpegDuration('  Duration: N/A, bitrate: N/A'), undefined);
    assert.equal(parseFfmpegDuration('frame=1 time=00:00:01.00'), undefined);
  });
});

describe('locateFfmpeg', () => {
  it('prefers a configured path, then the npm package, then PATH', async (t) => {
    const dir = await tempDir(t);
    const fake = join(dir, 'my-ffmpeg');
    await writeFile(fake, '#!/bin/sh\nexit 0\n');
    await chmod(fake, 0o755);
    assert.deepEqual(locateFfmpeg(fake), { path: fake, source: 'configured' });
    // A bare configured name is looked up in PATH.
    assert.deepEqual(locateFfmpeg('my-ffmpeg', { env: { PATH: dir } }), { path: fake, source: 'configured' });

    const npm = npmFfmpegPath();
    assert.ok(npm, '@ffmpeg-installer/ffmpeg is a dependency and ships a binary for linux-x64');
    assert.deepEqual(locateFfmpeg(), { path: npm, source: 'npm package' });
    assert.deepEqual(locateFfmpeg(''), { path: npm, source: 'npm package' });

    const onPath = join(dir, 'ffmpeg');
    await writeFile(onPath, '#!/bin/sh\nexit 0\n');
    await chmod(onPath, 0o755);
    assert.deepEqual(locateFfmpeg(undefined, { npmPackage: false, env: { PATH: `/nonexistent:${dir}` } }), {
      path: onPath,
      source: 'system',
    });
  });

  it('fails clearly when nothing is found', async (t) => {
    const dir = await tempDir(t);
    assert.throws(
      () => locateFfmpeg(undefined, { npmPackage: false, env: { PATH: dir } }),
      (error: unknown) => {
        assert.ok(error instanceof UserError);
        assert.match(error.message, /ffmpeg not found/);
        return true;
      },
    );
    assert.throws(
      () => locateFfmpeg(join(dir, 'nope')),
      /configured ffmpeg ".*nope" does not exist or is not executable/,
    );
    assert.throws(() => locateFfmpeg('nope-ffmpeg', { env: { PATH: dir } }), /not found in PATH/);
    // A file without the executable bit is not a program.
    const plain = join(dir, 'plain');
    await writeFile(plain, '');
    assert.throws(() => locateFfmpeg(plain), /not executable/);
  });
});

describe('ffmpeg on real frames', () => {
  it('encodes 24 rendered frames to mp4 with parsed progress, then counts 24 decoded frames', {
    timeout: 120_000,
  }, async (t) => {
    const dir = await tempDir(t);
    await renderFrames({
      frames: Array.from({ length: 24 }, (_, i) => i + 1),
      width: 160,
      height: 90,
      output: join(dir, 'f_####.png'),
    });
    const ffmpeg = locateFfmpeg();
    const mp4 = join(dir, 'out.mp4');

    // Encode: stats on stderr, rewritten with \r.
    let duration: number | undefined;
    const encodeProgress: FfmpegProgress[] = [];
    const log: string[] = [];
    const encoded = await runLines(
      ffmpeg.path,
      [
        '-hide_banner',
        '-nostdin',
        '-y',
        '-framerate',
        '24',
        '-start_number',
        '1',
        '-i',
        join(dir, 'f_%04d.png'),
        '-c:v',
        'libx264',
        '-pix_fmt',
        'yuv420p',
        mp4,
      ],
      (line) => {
        log.push(line);
        duration ??= parseFfmpegDuration(line);
        const progress = parseFfmpegProgress(line, duration);
        if (progress) encodeProgress.push(progress);
      },
    );
    assert.equal(encoded, 0, log.join('\n'));
    assert.ok((await stat(mp4)).size > 0);
    assert.equal(duration, 1, 'input duration: 24 frames at 24 fps');
    const last = encodeProgress.at(-1);
    assert.ok(last?.final, `last progress is the final stats line: ${JSON.stringify(encodeProgress)}`);
    assert.equal(last.frame, 24);
    assert.ok((last.seconds ?? 0) > 0.5 && (last.seconds ?? 0) <= 1, `encoded time ${last.seconds}`);
    assert.ok((last.percent ?? 0) > 50 && (last.percent ?? 0) <= 100, `percent ${last.percent}`);

    // Decode to nowhere and count frames: stderr stats plus -progress on stdout.
    const statsFrames: number[] = [];
    const stdoutLines: string[] = [];
    let decodeDuration: number | undefined;
    const decoded = await runLines(
      ffmpeg.path,
      ['-hide_banner', '-nostdin', '-progress', 'pipe:1', '-i', mp4, '-f', 'null', '-'],
      (line, stream) => {
        if (stream === 'stdout') {
          stdoutLines.push(line);
          return;
        }
        decodeDuration ??= parseFfmpegDuration(line);
        const progress = parseFfmpegProgress(line);
        if (progress?.frame !== undefined) statsFrames.push(progress.frame);
      },
    );
    // stdout and stderr arrive independently; apply the duration once both are complete.
    const progressLines = stdoutLines
      .map((line) => parseFfmpegProgress(line, decodeDuration))
      .filter((p) => p !== undefined);
    assert.equal(decoded, 0);
    assert.equal(statsFrames.at(-1), 24, 'the mp4 holds 24 frames');
    assert.equal(progressLines.findLast((p) => p.frame !== undefined)?.frame, 24);
    const timed = progressLines.findLast((p) => p.seconds !== undefined);
    assert.equal(timed?.seconds, 1);
    assert.equal(timed?.percent, 100);
    assert.deepEqual(progressLines.at(-1), { final: true });
  });
});
