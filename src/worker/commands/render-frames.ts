/**
 * `render-frames`: Kiln's built-in renderer, run as a child process
 * (`node dist/src/render/render-frames-main.js ...`) so a stop can kill it like any program. It
 * prints Blender-like `Fra:` and `Saved:` lines: progress counts saved frames, and each saved
 * frame becomes a preview.
 */
import { fileURLToPath } from 'node:url';
import { formatFrames } from '../../jobs/frame-range.js';
import { parseBlenderLine } from '../../media/blender-output.js';
import { runProgram } from './process.js';
import type { CommandHandler } from './types.js';

/** The renderer's entry, beside this file once compiled (dist/src/render/render-frames-main.js). */
export const RENDER_FRAMES_MAIN = fileURLToPath(new URL('../../render/render-frames-main.js', import.meta.url));

function renderFramesArgv(parameters: Parameters<CommandHandler<'render-frames'>>[0]): string[] {
  const frames = [...new Set(parameters.frames)].sort((a, b) => a - b);
  return [
    process.execPath,
    RENDER_FRAMES_MAIN,
    '--frames',
    formatFrames(frames),
    '--width',
    String(parameters.width),
    '--height',
    String(parameters.height),
    '--output',
    parameters.output,
    ...(parameters.scene === undefined ? [] : ['--scene', parameters.scene]),
  ];
}

export const runRenderFrames: CommandHandler<'render-frames'> = async (parameters, context) => {
  const total = new Set(parameters.frames).size;
  let saved = 0;
  context.progress(0, `rendering ${total} frame${total === 1 ? '' : 's'}`);
  await runProgram('the built-in renderer', {
    argv: renderFramesArgv(parameters),
    signal: context.signal,
    killGraceMs: context.killGraceMs,
    processGroups: context.processGroups,
    io: context.io,
    onLine: (line) => {
      if (line.trim() !== '') context.log(line);
      const parsed = parseBlenderLine(line);
      if (parsed?.kind === 'frame') {
        context.progress(saved / total, `rendering frame ${parsed.frame} (${saved + 1} of ${total})`);
      } else if (parsed?.kind === 'saved') {
        saved++;
        context.progress(Math.min(1, saved / total), `saved ${saved} of ${total} frames`);
        context.preview(parsed.path);
      }
    },
  });
  context.progress(1, `rendered ${saved} frame${saved === 1 ? '' : 's'}`);
};
