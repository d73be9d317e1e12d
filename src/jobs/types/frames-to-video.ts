import { Type } from '@sinclair/typebox';
import { defineJobType } from '../define.js';
import { sequenceToVideoCommand, toFfmpegPattern } from '../ffmpeg.js';
import { parseFrameRange } from '../frame-range.js';
import { parentPath, resolveJobPath } from '../paths.js';
import { settingsError } from '../settings.js';
import { makeCommand, TaskType, type Command } from '../types.js';

const FramesToVideoSettings = Type.Object(
  {
    input: Type.String({
      minLength: 1,
      description:
        "image sequence: a pattern ('/out/frames/frame_####.png' or '/out/frames/frame_%04d.png') or a directory of Kiln's frame_####.png files",
    }),
    output: Type.String({
      minLength: 1,
      description: 'video file; the extension picks the container (.mp4, .mov, .mkv, .webm)',
    }),
    fps: Type.Number({ exclusiveMinimum: 0, maximum: 1000, default: 24, description: 'frame rate of the video' }),
    codec: Type.Union([Type.Literal('h264'), Type.Literal('h265'), Type.Literal('vp9')], {
      default: 'h264',
      description: 'video encoder (vp9 for .webm files)',
    }),
    crf: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 63,
        description: 'constant quality, lower is better (h264/h265 0-51, vp9 0-63)',
      }),
    ),
  },
  { additionalProperties: false },
);

/**
 * One `video` task encoding an image sequence. With job.frames the video holds exactly those
 * frames in order; without, ffmpeg starts at the first numbered file it finds and stops at the
 * first gap.
 */
export const framesToVideoJobType = defineJobType({
  name: 'frames-to-video',
  label: 'Frames to video',
  description: 'Encodes an image sequence into a video file with ffmpeg.',
  settingsSchema: FramesToVideoSettings,
  checkSettings(settings) {
    if (settings.crf !== undefined && settings.codec !== 'vp9' && settings.crf > 51) {
      throw settingsError(
        'settings.crf',
        `settings.crf must be at most 51 with codec ${settings.codec}, got ${settings.crf}`,
      );
    }
  },
  compile(job) {
    const { settings } = job;
    const output = resolveJobPath(job, settings.output, 'settings.output');
    const frames = job.frames?.trim() ? parseFrameRange(job.frames) : undefined;
    const commands: Command[] = [];
    const folder = parentPath(output);
    if (folder) commands.push(makeCommand('make-directory', { path: folder }));
    commands.push(
      sequenceToVideoCommand({
        input: toFfmpegPattern(resolveJobPath(job, settings.input, 'settings.input')),
        output,
        fps: settings.fps,
        codec: settings.codec,
        ...(frames ? { frames } : {}),
        ...(settings.crf !== undefined ? { crf: settings.crf } : {}),
      }),
    );
    return [{ name: 'frames-to-video', type: TaskType.video, commands, dependsOn: [] }];
  },
});
