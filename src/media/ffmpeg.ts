/**
 * ffmpeg: finding the binary and reading its progress.
 *
 * Kiln prefers a configured path, then the static build shipped in the npm package
 * @ffmpeg-installer/ffmpeg (so a fresh install can encode without system packages), then `ffmpeg`
 * on PATH. That static build has no ffprobe.
 */
import { createRequire } from 'node:module';
import { UserError } from '../util/errors.js';
import { findConfiguredProgram, findExecutable, isExecutableFile } from './executables.js';

export type FfmpegSource = 'configured' | 'npm package' | 'system';

export interface LocatedProgram<Source extends string> {
  path: string;
  source: Source;
}

export interface LocateFfmpegOptions {
  /** Environment whose PATH is searched (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Consider the @ffmpeg-installer/ffmpeg binary (default true). */
  npmPackage?: boolean;
}

const require = createRequire(import.meta.url);

/** The binary of @ffmpeg-installer/ffmpeg, if the package and its platform package are installed. */
export function npmFfmpegPath(): string | undefined {
  try {
    // The package throws (a string, not an Error) when its platform package is missing.
    const installer = require('@ffmpeg-installer/ffmpeg') as { path?: unknown };
    return typeof installer.path === 'string' && isExecutableFile(installer.path) ? installer.path : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Finds ffmpeg: the configured program (a path, or a name looked up in PATH) if given, else the npm
 * package's static build, else `ffmpeg` on PATH. A configured program that is missing is an error,
 * not a reason to fall back: the administrator asked for that one.
 */
export function locateFfmpeg(configured?: string, options: LocateFfmpegOptions = {}): LocatedProgram<FfmpegSource> {
  const env = options.env ?? process.env;
  const wanted = configured?.trim();
  if (wanted) return { path: findConfiguredProgram('ffmpeg', wanted, env), source: 'configured' };
  if (options.npmPackage !== false) {
    const path = npmFfmpegPath();
    if (path) return { path, source: 'npm package' };
  }
  const path = findExecutable('ffmpeg', env);
  if (path) return { path, source: 'system' };
  throw new UserError(
    'ffmpeg not found: the npm package @ffmpeg-installer/ffmpeg has no binary for this platform and there is no ffmpeg in PATH; install ffmpeg or configure its path',
    { code: 'not-found', field: 'ffmpeg' },
  );
}

export interface FfmpegProgress {
  /** Frames written so far (`frame=`). */
  frame?: number;
  /** Output time reached, in seconds (`time=` or `out_time=`/`out_time_us=`), never negative. */
  seconds?: number;
  /** seconds / duration as 0-100, when a duration was given and the time is known. */
  percent?: number;
  /** Encoding speed in frames per second (`fps=`). */
  fps?: number;
  /** Realtime multiple (`speed=2.5x`). */
  speed?: number;
  /**
   * The last stats line ffmpeg prints (with `Lsize=`), or `progress=end` from `-progress`. The time
   * on it can stop short of the duration (B-frames); the exit code says whether the run succeeded.
   */
  final: boolean;
}

const TIME_RE = /(?:^|[\s])time=\s*(-?)(\d+):(\d{1,2}):(\d{1,2}(?:\.\d+)?)/;
const OUT_TIME_RE = /^out_time=\s*(-?)(\d+):(\d{1,2}):(\d{1,2}(?:\.\d+)?)\s*$/;
const OUT_TIME_US_RE = /^out_time_(us|ms)=\s*(-?\d+)\s*$/;
const FRAME_RE = /(?:^|\s)frame=\s*(\d+)/;
const FPS_RE = /(?:^|\s)fps=\s*(\d+(?:\.\d+)?)/;
const SPEED_RE = /(?:^|\s)speed=\s*(\d+(?:\.\d+)?(?:e[+-]?\d+)?)x/;

function hms(sign: string, hours: string, minutes: string, seconds: string): number {
  const value = Number(hours) * 3600 + Number(minutes) * 60 + Number(seconds);
  return sign === '-' ? -value : value;
}

/**
 * Reads one line of ffmpeg's stderr stats (`frame=  24 fps=0.0 ... time=00:00:00.87 ... speed=20x`,
 * split on `\r` as well as `\n`), or one `key=value` line of `-progress` output. Returns undefined
 * for lines without progress (banners, stream lists, `time=N/A` with no frame count).
 */
export function parseFfmpegProgress(line: string, durationSeconds?: number): FfmpegProgress | undefined {
  const text = line.trim();
  let seconds: number | undefined;
  let frame: number | undefined;
  let final = false;

  const time = TIME_RE.exec(text) ?? OUT_TIME_RE.exec(text);
  if (time) seconds = hms(time[1] ?? '', time[2] ?? '0', time[3] ?? '0', time[4] ?? '0');
  const micro = OUT_TIME_US_RE.exec(text);
  // ffmpeg's out_time_ms is in microseconds too (a long-standing misnomer).
  if (micro) seconds = Number(micro[2]) / 1e6;
  const frameMatch = FRAME_RE.exec(text);
  if (frameMatch) frame = Number(frameMatch[1]);
  if (/(?:^|\s)Lsize=/.test(text) || /^progress=end\s*$/.test(text)) final = true;

  if (seconds === undefined && frame === undefined && !final) return undefined;
  const result: FfmpegProgress = { final };
  if (frame !== undefined) result.frame = frame;
  if (seconds !== undefined) {
    result.seconds = Math.max(0, seconds);
    if (durationSeconds !== undefined && Number.isFinite(durationSeconds) && durationSeconds > 0) {
      result.percent = Math.min(100, Math.max(0, (result.seconds / durationSeconds) * 100));
    }
  }
  const fps = FPS_RE.exec(text);
  if (fps && frameMatch) result.fps = Number(fps[1]);
  const speed = SPEED_RE.exec(text);
  if (speed) result.speed = Number(speed[1]);
  return result;
}

/** Reads an input's duration from ffmpeg's `  Duration: 00:01:02.50, start: ...` line. */
export function parseFfmpegDuration(line: string): number | undefined {
  const match = /^\s*Duration:\s*(\d+):(\d{1,2}):(\d{1,2}(?:\.\d+)?)/.exec(line);
  return match ? hms('', match[1] ?? '0', match[2] ?? '0', match[3] ?? '0') : undefined;
}
