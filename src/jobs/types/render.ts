import { Type, type Static } from '@sinclair/typebox';
import { UserError } from '../../util/errors.js';
import { defineJobType } from '../define.js';
import { FRAME_FILE_PATTERN, sequenceToVideoCommand, toFfmpegPattern } from '../ffmpeg.js';
import { chunkFrames, formatFrames, parseFrameRange } from '../frame-range.js';
import { joinPath, resolveJobPath, sanitiseFileName } from '../paths.js';
import {
  MAX_RENDER_FRAME,
  makeCommand,
  TaskType,
  type CompiledTask,
  type Command,
  type JobToCompile,
} from '../types.js';

const DEFAULT_RENDER_CHUNK_SIZE = 4;

/** Settings that mean something with one renderer only (see appliesWhen in setting-info.ts). */
const withBlender = { appliesWhen: { renderer: ['blender'] } };
const withBuiltin = { appliesWhen: { renderer: ['builtin'] } };

const RenderSettings = Type.Object(
  {
    renderer: Type.Union([Type.Literal('builtin'), Type.Literal('blender')], {
      default: 'builtin',
      description:
        "what draws the frames: Kiln's built-in renderer (builtin: a procedural test scene, no external program) or Blender (blender: renders blendFile)",
    }),
    blendFile: Type.Optional(
      Type.String({
        minLength: 1,
        ...withBlender,
        requiredWhen: { renderer: ['blender'] },
        description:
          "the Blender scene file (.blend) to render; a relative path is read from the job's input folder (kiln submit --input)",
      }),
    ),
    output: Type.String({
      minLength: 1,
      description: 'directory; frames go to <output>/frames/frame_####.png, the video to <output>/<job name>.mp4',
    }),
    width: Type.Integer({
      minimum: 1,
      maximum: 16384,
      default: 1280,
      ...withBuiltin,
      description: 'image width in pixels (Blender renders use the resolution saved in the .blend file)',
    }),
    height: Type.Integer({
      minimum: 1,
      maximum: 16384,
      default: 720,
      ...withBuiltin,
      description: 'image height in pixels (Blender renders use the resolution saved in the .blend file)',
    }),
    fps: Type.Number({ exclusiveMinimum: 0, maximum: 1000, default: 24, description: 'frame rate of the video' }),
    video: Type.Boolean({ default: true, description: 'also make an H.264 MP4 of the rendered frames' }),
    scene: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "scene to render: a scene of the .blend file (Blender's -S), or the built-in renderer's scene name",
      }),
    ),
  },
  { additionalProperties: false },
);

/**
 * Renders job.frames in chunks of job.chunkSize (default 4), one `render` task per chunk, each
 * making `<output>/frames` and rendering its frames there. With `video` (the default), a final
 * `video` task that depends on every render task encodes exactly the rendered frames, in
 * order, into `<output>/<job name, sanitised>.mp4` (see sequenceToVideoCommand for gaps).
 */
export const renderJobType = defineJobType({
  name: 'render',
  label: 'Render',
  description:
    "Renders a frame range with Kiln's built-in renderer or Blender, in chunks, then makes an MP4 of the frames.",
  settingsSchema: RenderSettings,
  compile(job) {
    const settings = job.settings;
    if (!job.frames?.trim()) {
      throw new UserError('a render job needs frames, e.g. 1-250', { field: 'frames', code: 'invalid_frames' });
    }
    const frames = parseFrameRange(job.frames);
    const lastFrame = frames.at(-1);
    if (lastFrame !== undefined && lastFrame > MAX_RENDER_FRAME) {
      throw new UserError(
        `frame ${lastFrame} is past ${MAX_RENDER_FRAME}, the last frame Blender and Kiln's renderer can render`,
        {
          field: 'frames',
          code: 'invalid_frames',
        },
      );
    }
    const chunks = chunkFrames(frames, job.chunkSize ?? DEFAULT_RENDER_CHUNK_SIZE);
    const output = resolveJobPath(job, settings.output, 'settings.output');
    const framesDir = joinPath(output, 'frames');
    const framePattern = joinPath(framesDir, FRAME_FILE_PATTERN);

    // Built before the loop so that a video that cannot be made fails the submission at once.
    const video = settings.video
      ? sequenceToVideoCommand({
          input: toFfmpegPattern(framePattern),
          output: joinPath(output, `${sanitiseFileName(job.name, 'video')}.mp4`),
          fps: settings.fps,
          frames,
        })
      : undefined;

    const tasks: CompiledTask[] = chunks.map((chunk) => ({
      name: `render ${formatFrames(chunk)}`,
      type: TaskType.render,
      commands: [makeCommand('make-directory', { path: framesDir }), renderCommand(job, chunk, framePattern)],
      dependsOn: [],
    }));
    if (video) {
      tasks.push({
        name: 'frames-to-video',
        type: TaskType.video,
        commands: [video],
        dependsOn: tasks.map((_, index) => index),
      });
    }
    return tasks;
  },
});

type RenderSettings = Static<typeof RenderSettings>;

function renderCommand(job: JobToCompile<RenderSettings>, frames: number[], output: string): Command {
  const { settings } = job;
  if (settings.renderer === 'blender') {
    if (settings.blendFile === undefined) {
      throw new UserError('settings.blendFile is required when settings.renderer is blender', {
        field: 'settings.blendFile',
        code: 'invalid_settings',
      });
    }
    return makeCommand('blender', {
      blendFile: resolveJobPath(job, settings.blendFile, 'settings.blendFile'),
      frames,
      output,
      format: 'PNG',
      ...(settings.scene ? { args: ['-S', settings.scene] } : {}),
    });
  }
  return makeCommand('render-frames', {
    frames,
    width: settings.width,
    height: settings.height,
    output,
    ...(settings.scene ? { scene: settings.scene } : {}),
  });
}
