import { Type, type Static, type TLiteral, type TUnion } from '@sinclair/typebox';
import { defineJobType } from '../define.js';
import { videoCodecArgs } from '../ffmpeg.js';
import { parentPath, resolveJobPath } from '../paths.js';
import { settingsError } from '../settings.js';
import { makeCommand, TaskType, type Command } from '../types.js';

/** A union of string literals, typed as the union of the strings. */
function literals<const T extends readonly string[]>(
  values: T,
  options: { default?: T[number]; description?: string } = {},
) {
  return Type.Union(
    values.map((value) => Type.Literal(value)),
    options,
  ) as TUnion<Array<TLiteral<T[number]>>>;
}

const ENCODERS = ['h264', 'h265', 'vp9', 'prores'] as const;
const PRESETS = [
  'ultrafast',
  'superfast',
  'veryfast',
  'faster',
  'fast',
  'medium',
  'slow',
  'slower',
  'veryslow',
] as const;
const dimension = (description: string) => Type.Integer({ minimum: 2, maximum: 16384, multipleOf: 2, description });

const TranscodeSettings = Type.Object(
  {
    input: Type.String({ minLength: 1, description: 'media file to read' }),
    output: Type.String({ minLength: 1, description: 'file to write; the extension picks the container' }),
    videoCodec: literals([...ENCODERS, 'copy', 'none'], {
      default: 'h264',
      description: "'copy' keeps the stream as is, 'none' drops video",
    }),
    audioCodec: literals(['aac', 'opus', 'copy', 'none'], {
      default: 'aac',
      description: "'copy' keeps the stream as is, 'none' drops audio",
    }),
    crf: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 63,
        description: 'constant quality, lower is better (h264/h265 0-51, vp9 0-63)',
      }),
    ),
    preset: Type.Optional(literals(PRESETS, { description: 'speed/size trade-off for h264 and h265' })),
    width: Type.Optional(dimension('scale to this width (height follows the aspect ratio unless given)')),
    height: Type.Optional(dimension('scale to this height (width follows the aspect ratio unless given)')),
    audioBitrate: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,3}k$', description: 'a bit rate like 192k' })),
    extraArgs: Type.Optional(
      Type.Array(Type.String(), { description: 'more ffmpeg output options, placed just before the output file' }),
    ),
  },
  { additionalProperties: false },
);
type TranscodeSettings = Static<typeof TranscodeSettings>;

/** One `video` task running ffmpeg from input to output with the chosen codecs. */
export const transcodeJobType = defineJobType({
  name: 'transcode',
  label: 'Transcode',
  description: 'Converts a media file with ffmpeg: video and audio codec, quality, size.',
  settingsSchema: TranscodeSettings,
  checkSettings(settings) {
    const { videoCodec: video, audioCodec: audio } = settings;
    const encodes = video !== 'copy' && video !== 'none';
    if (video === 'none' && audio === 'none')
      throw settingsError('settings.videoCodec', 'settings.videoCodec and settings.audioCodec cannot both be none');
    if (settings.crf !== undefined && (video === 'copy' || video === 'none' || video === 'prores')) {
      throw settingsError('settings.crf', `settings.crf cannot be used with videoCodec ${video}`);
    }
    if (settings.crf !== undefined && video !== 'vp9' && settings.crf > 51) {
      throw settingsError(
        'settings.crf',
        `settings.crf must be at most 51 with videoCodec ${video}, got ${settings.crf}`,
      );
    }
    if (settings.preset !== undefined && video !== 'h264' && video !== 'h265') {
      throw settingsError('settings.preset', `settings.preset only applies to videoCodec h264 or h265, not ${video}`);
    }
    for (const key of ['width', 'height'] as const) {
      if (settings[key] !== undefined && !encodes)
        throw settingsError(`settings.${key}`, `settings.${key} needs a video codec that encodes, not ${video}`);
    }
    if (settings.audioBitrate !== undefined && (audio === 'copy' || audio === 'none')) {
      throw settingsError('settings.audioBitrate', `settings.audioBitrate cannot be used with audioCodec ${audio}`);
    }
  },
  compile(job) {
    const { settings } = job;
    const output = resolveJobPath(job, settings.output, 'settings.output');
    const args = ['-nostdin', '-hide_banner', '-y', '-i', resolveJobPath(job, settings.input, 'settings.input')];
    args.push(...videoArgs(settings, output), ...audioArgs(settings), ...(settings.extraArgs ?? []), output);

    const commands: Command[] = [];
    const folder = parentPath(output);
    if (folder) commands.push(makeCommand('make-directory', { path: folder }));
    // No durationSeconds: the input's length is unknown here; the worker takes it from
    // ffmpeg's own "Duration:" line.
    commands.push(makeCommand('ffmpeg', { args, output }));
    return [{ name: 'transcode', type: TaskType.video, commands, dependsOn: [] }];
  },
});

function videoArgs(settings: TranscodeSettings, output: string): string[] {
  const codec = settings.videoCodec;
  if (codec === 'none') return ['-vn'];
  if (codec === 'copy') return ['-c:v', 'copy'];
  const args =
    codec === 'prores'
      ? ['-c:v', 'prores_ks', '-profile:v', '3', '-pix_fmt', 'yuv422p10le']
      : videoCodecArgs(codec, output, settings.crf);
  if (settings.preset) args.push('-preset', settings.preset);
  if (settings.width !== undefined || settings.height !== undefined) {
    args.push('-vf', `scale=${settings.width ?? -2}:${settings.height ?? -2}`);
  }
  return args;
}

function audioArgs(settings: TranscodeSettings): string[] {
  const codec = settings.audioCodec;
  if (codec === 'none') return ['-an'];
  if (codec === 'copy') return ['-c:a', 'copy'];
  const bitrate = settings.audioBitrate ? ['-b:a', settings.audioBitrate] : [];
  return ['-c:a', codec === 'opus' ? 'libopus' : 'aac', ...bitrate];
}
