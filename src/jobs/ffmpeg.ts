import { UserError } from '../util/errors.js';
import { formatFrames, splitRuns } from './frame-range.js';
import { joinPath } from './paths.js';
import { makeCommand, type Command } from './types.js';

/**
 * Building ffmpeg argument lists for image sequences. Everything here is an argv for the
 * `ffmpeg` command (no shell, so no quoting), kept short enough for Windows' 32 KiB command line.
 */

export type VideoCodec = 'h264' | 'h265' | 'vp9';

/**
 * A video joins at most this many separate runs of frames. Each run is one ffmpeg input, and
 * the argument list must stay within Windows' command-line limit on any worker.
 */
export const MAX_VIDEO_RUNS = 100;

/** Kiln's layout for rendered frames: `<dir>/frame_0001.png`. */
export const FRAME_FILE_PATTERN = 'frame_####.png';

/**
 * Turns a Kiln/Blender pattern (`/out/frame_####.png`, the last run of '#' is the zero-padded
 * frame number) into ffmpeg's image2 pattern (`/out/frame_%04d.png`), escaping any '%' already
 * in the path. A pattern already in printf form (`%04d`) is returned unchanged; anything else
 * is taken as a directory holding Kiln's `frame_####.png` files.
 */
export function toFfmpegPattern(pattern: string): string {
  const hashes = /#+(?!.*#)/.exec(pattern);
  if (hashes) {
    const before = pattern.slice(0, hashes.index).replaceAll('%', '%%');
    const after = pattern.slice(hashes.index + hashes[0].length).replaceAll('%', '%%');
    return `${before}%0${hashes[0].length}d${after}`;
  }
  if (/%0?\d*d/.test(pattern)) return pattern;
  return toFfmpegPattern(joinPath(pattern, FRAME_FILE_PATTERN));
}

export interface SequenceToVideo {
  /** ffmpeg image2 pattern, e.g. `/out/frames/frame_%04d.png` (see toFfmpegPattern). */
  input: string;
  output: string;
  fps: number;
  /**
   * The exact frames, in order. Without them ffmpeg starts at the first file it finds
   * (numbers 0-9999) and stops at the first missing number.
   */
  frames?: readonly number[];
  codec?: VideoCodec;
  /** Constant quality; lower is better. Codec default when absent (vp9: 31). */
  crf?: number;
}

/**
 * The ffmpeg command that turns an image sequence into a video holding exactly `frames`, in
 * order, back to back at `fps`:
 *
 * - one run of consecutive frames: `-framerate fps -start_number first -i pattern -frames:v N`.
 *   `-frames:v` stops at the last rendered frame even when older files with later numbers are
 *   still in the folder.
 * - several runs (gaps): one image2 input per run, each trimmed to its length, joined with the
 *   concat filter. No list file is needed, so the command stays self-contained. Frames in the
 *   gaps are not held or repeated: the video simply has fewer frames.
 *
 * Dimensions are padded up to even numbers, which yuv420p requires (a 1281x721 render still
 * encodes).
 */
export function sequenceToVideoCommand(spec: SequenceToVideo): Command {
  const { input, output, fps } = spec;
  const rate = String(fps);
  const args = ['-nostdin', '-hide_banner', '-y'];
  const pad = 'pad=ceil(iw/2)*2:ceil(ih/2)*2';
  const frames = spec.frames;

  if (!frames) {
    args.push('-framerate', rate, '-start_number_range', '10000', '-i', input, '-vf', pad);
  } else {
    const runs = splitRuns(frames);
    if (runs.length === 0)
      throw new UserError('a video needs at least one frame', { field: 'frames', code: 'invalid_frames' });
    if (runs.length > MAX_VIDEO_RUNS) {
      throw new UserError(
        `frames ${truncate(formatFrames(frames))} form ${runs.length} separate runs; a video can join at most ${MAX_VIDEO_RUNS}. ` +
          'Render fewer, longer ranges or turn the video off',
        { field: 'frames', code: 'invalid_frames' },
      );
    }
    if (runs.length === 1) {
      args.push(
        '-framerate',
        rate,
        '-start_number',
        String(frames[0]),
        '-i',
        input,
        '-frames:v',
        String(frames.length),
        '-vf',
        pad,
      );
    } else {
      const graph: string[] = [];
      runs.forEach((run, index) => {
        args.push('-framerate', rate, '-start_number', String(run[0]), '-i', input);
        graph.push(`[${index}:v]trim=end_frame=${run.length}[s${index}]`);
      });
      const labels = runs.map((_, index) => `[s${index}]`).join('');
      graph.push(`${labels}concat=n=${runs.length}:v=1:a=0,${pad}[video]`);
      args.push('-filter_complex', graph.join(';'), '-map', '[video]');
    }
  }
  args.push(...videoCodecArgs(spec.codec ?? 'h264', output, spec.crf), output);
  return makeCommand('ffmpeg', {
    args,
    ...(frames?.length ? { durationSeconds: frames.length / fps } : {}),
    output,
  });
}

/** Encoder arguments for a codec, with container-specific flags chosen from the output name. */
export function videoCodecArgs(codec: VideoCodec, output: string, crf?: number): string[] {
  const isMp4 = /\.(mp4|m4v|mov)$/i.test(output);
  const quality = crf === undefined ? [] : ['-crf', String(crf)];
  switch (codec) {
    case 'h264':
      return ['-c:v', 'libx264', '-pix_fmt', 'yuv420p', ...quality, ...(isMp4 ? ['-movflags', '+faststart'] : [])];
    case 'h265':
      // hvc1 lets QuickTime and Apple devices play HEVC from MP4/MOV.
      return [
        '-c:v',
        'libx265',
        '-pix_fmt',
        'yuv420p',
        ...quality,
        ...(isMp4 ? ['-tag:v', 'hvc1', '-movflags', '+faststart'] : []),
      ];
    case 'vp9':
      // -b:v 0 with -crf is libvpx's constant-quality mode.
      return [
        '-c:v',
        'libvpx-vp9',
        '-pix_fmt',
        'yuv420p',
        '-b:v',
        '0',
        '-crf',
        String(crf ?? 31),
        ...(isMp4 ? ['-movflags', '+faststart'] : []),
      ];
  }
}

const truncate = (text: string): string => (text.length > 40 ? `${text.slice(0, 37)}...` : text);
