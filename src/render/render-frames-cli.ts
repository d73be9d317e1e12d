/**
 * Command-line front of the built-in renderer. Prints Blender-like lines so the worker parses its
 * output and Blender's the same way (see src/media/blender-output.ts):
 *
 *   Fra:12 | Kiln built-in renderer | 1280x720 | scene default
 *   Saved: '/abs/path/frame_0012.png'
 *    Time: 00:00.03 (Saving: 00:00.01)
 *
 * and a summary line at the end. Bad arguments: one line on stderr, exit code 2.
 */
import { parseArgs } from 'node:util';
import { UserError } from '../util/errors.js';
import { parseFrameList } from './frames.js';
import { DEFAULT_SCENE, checkRenderFramesOptions, renderFrames } from './render.js';

export const USAGE =
  'usage: render-frames-main --frames 1,2,5-8 --width W --height H --output /path/frame_####.png [--scene NAME] [--concurrency N]';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  signal?: AbortSignal;
}

export interface RenderFramesArgs {
  frames: number[];
  width: number;
  height: number;
  output: string;
  scene: string;
  concurrency?: number;
}

function wholeNumber(value: string | undefined, option: string): number {
  if (value === undefined) throw new UserError(`missing --${option}`, { field: option });
  if (!/^\d+$/.test(value.trim()))
    throw new UserError(`--${option} must be a whole number (got "${value}")`, { field: option });
  return Number(value.trim());
}

/** The command line's options, as node:util's parseArgs reads them; its errors as one-line UserErrors. */
function readOptions(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: {
        frames: { type: 'string' },
        width: { type: 'string' },
        height: { type: 'string' },
        output: { type: 'string' },
        scene: { type: 'string' },
        concurrency: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    const code = (error as { code?: string }).code;
    const message = error instanceof Error ? error.message : String(error);
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const option = /'([^']+)'/.exec(message)?.[1] ?? message;
      throw new UserError(`unknown option ${option}`);
    }
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      const argument = /'([^']+)'/.exec(message)?.[1] ?? message;
      throw new UserError(`unexpected argument "${argument}"`);
    }
    throw new UserError((message.split('\n')[0] ?? message).replace(/^Option /, 'option '));
  }
}

/** Parses the command line; throws UserError with a one-line message on anything wrong. */
export function parseRenderFramesArgs(argv: string[]): RenderFramesArgs | 'help' {
  const { values } = readOptions(argv);
  if (values.help) return 'help';
  if (values.frames === undefined) throw new UserError('missing --frames', { field: 'frames' });
  if (values.output === undefined || values.output === '') throw new UserError('missing --output', { field: 'output' });
  const frames = parseFrameList(values.frames);
  const width = wholeNumber(values.width, 'width');
  const height = wholeNumber(values.height, 'height');
  const concurrency = values.concurrency === undefined ? undefined : wholeNumber(values.concurrency, 'concurrency');
  if (concurrency === 0) throw new UserError('--concurrency must be at least 1', { field: 'concurrency' });
  const scene = values.scene ?? DEFAULT_SCENE;
  const args = {
    frames,
    width,
    height,
    output: values.output,
    scene,
    ...(concurrency === undefined ? {} : { concurrency }),
  };
  checkRenderFramesOptions(args);
  return args;
}

/** Blender's `MM:SS.hh` duration format. */
function blenderTime(ms: number): string {
  const hundredths = Math.round(ms / 10);
  const minutes = Math.floor(hundredths / 6000);
  const seconds = Math.floor((hundredths % 6000) / 100);
  return `${String(minutes).padStart(2, '0')}:${String(seconds).padStart(2, '0')}.${String(hundredths % 100).padStart(2, '0')}`;
}

/** Runs the renderer for a command line; returns the process exit code. */
export async function runRenderFramesCli(argv: string[], io: CliIo): Promise<number> {
  let args: RenderFramesArgs | 'help';
  try {
    args = parseRenderFramesArgs(argv);
  } catch (error) {
    if (error instanceof UserError) {
      io.stderr(`render-frames: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  if (args === 'help') {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  const { width, height, scene } = args;
  io.stdout(
    `Kiln built-in renderer: ${args.frames.length} frame${args.frames.length === 1 ? '' : 's'} at ${width}x${height}, scene '${scene}', output ${args.output}\n`,
  );
  try {
    const result = await renderFrames({ ...args, ...(io.signal ? { signal: io.signal } : {}) }, (event) => {
      if (event.kind === 'frame-start') {
        io.stdout(
          `Fra:${event.frame} | Kiln built-in renderer | ${width}x${height} | scene ${scene} | Frame ${event.index + 1}/${event.total}\n`,
        );
      } else if (event.kind === 'frame-saved') {
        io.stdout(
          `Saved: '${event.path}'\n Time: ${blenderTime(event.renderMs + event.saveMs)} (Saving: ${blenderTime(event.saveMs)})\n\n`,
        );
      }
    });
    const seconds = result.elapsedMs / 1000;
    io.stdout(
      `Finished: ${result.paths.length} frame${result.paths.length === 1 ? '' : 's'} in ${seconds.toFixed(2)} s (${(result.elapsedMs / result.paths.length).toFixed(1)} ms per frame)\n`,
    );
    return 0;
  } catch (error) {
    if (error instanceof UserError) {
      io.stderr(`render-frames: ${error.message}\n`);
      return 2;
    }
    if (io.signal?.aborted) {
      io.stderr(`render-frames: stopped: ${error instanceof Error ? error.message : String(error)}\n`);
      return 130;
    }
    io.stderr(`render-frames: error: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
