/**
 * `blender`: Blender in background mode. Progress from its `Fra:` / sample / tile lines, each
 * `Saved:` file becomes a preview; an exit code of 0 with errors printed and frames missing still
 * fails (Blender does not always set its exit code).
 */
import { buildBlenderArgs, locateBlender } from '../../media/blender.js';
import { parseBlenderLine } from '../../media/blender-output.js';
import { UserError } from '../../util/errors.js';
import { describeExit, runProcess } from './process.js';
import { CommandError, throwIfAborted, type CommandHandler } from './types.js';

export const runBlender: CommandHandler<'blender'> = async (parameters, context) => {
  throwIfAborted(context.signal);
  let program: string;
  let args: string[];
  try {
    program = locateBlender(parameters.exe ?? context.tools.blender).path;
    args = buildBlenderArgs({
      blendFile: parameters.blendFile,
      frames: parameters.frames,
      output: parameters.output,
      format: parameters.format,
      ...(parameters.args ? { args: parameters.args } : {}),
    });
  } catch (error) {
    if (error instanceof UserError) throw new CommandError(error.message);
    throw error;
  }

  const total = new Set(parameters.frames).size;
  let saved = 0;
  let best = 0;
  let lastError: string | undefined;
  const report = (fraction: number, activity?: string): void => {
    best = Math.max(best, Math.min(1, fraction));
    context.progress(best, activity);
  };
  context.progress(0, `Blender: rendering ${total} frame${total === 1 ? '' : 's'}`);
  const exit = await runProcess({
    argv: [program, ...args],
    signal: context.signal,
    killGraceMs: context.killGraceMs,
    processGroups: context.processGroups,
    io: context.io,
    onLine: (line) => {
      if (line.trim() !== '') context.log(line);
      const parsed = parseBlenderLine(line);
      if (!parsed) return;
      switch (parsed.kind) {
        case 'frame':
          report(
            saved / total,
            `Blender: frame ${parsed.frame} (${Math.min(saved + 1, total)} of ${total})${parsed.status ? `: ${parsed.status}` : ''}`,
          );
          break;
        case 'progress':
          report((saved + parsed.fraction) / total);
          break;
        case 'saved':
          saved++;
          report(saved / total, `Blender: saved ${saved} of ${total} frames`);
          context.preview(parsed.path);
          break;
        case 'error':
          lastError = parsed.message;
          break;
      }
    },
  });
  if (exit.code !== 0) throw new CommandError(`Blender ${describeExit(exit)}${lastError ? `: ${lastError}` : ''}`);
  if (lastError !== undefined && saved < total) {
    throw new CommandError(`Blender saved ${saved} of ${total} frames and reported an error: ${lastError}`);
  }
  context.progress(1, `Blender: rendered ${saved} frame${saved === 1 ? '' : 's'}`);
};
