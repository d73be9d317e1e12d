/**
 * `ffmpeg`: runs ffmpeg (configured, the npm package's build, or PATH) with the given arguments.
 * Progress from its `time=` stats against `durationSeconds`, or else the input's `Duration:`.
 * Stats lines update progress rather than filling the log; the last one is logged.
 */
import { stat } from 'node:fs/promises';
import { locateFfmpeg, parseFfmpegDuration, parseFfmpegProgress } from '../../media/ffmpeg.js';
import { UserError } from '../../util/errors.js';
import { runProgram } from './process.js';
import { CommandError, throwIfAborted, type CommandHandler } from './types.js';

function clock(seconds: number): string {
  const whole = Math.floor(seconds);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
}

export const runFfmpeg: CommandHandler<'ffmpeg'> = async (parameters, context) => {
  throwIfAborted(context.signal);
  let program: string;
  try {
    program = locateFfmpeg(context.tools.ffmpeg).path;
  } catch (error) {
    if (error instanceof UserError) throw new CommandError(error.message);
    throw error;
  }
  let duration = parameters.durationSeconds;
  let lastStats: string | undefined;
  context.progress(0, 'ffmpeg: starting');
  await runProgram('ffmpeg', {
    argv: [program, ...parameters.args],
    signal: context.signal,
    killGraceMs: context.killGraceMs,
    processGroups: context.processGroups,
    io: context.io,
    onLine: (line) => {
      const progress = parseFfmpegProgress(line, duration);
      if (!progress) {
        if (line.trim() === '') return;
        context.log(line);
        // The first input's length, when the job did not say how long the output is.
        if (parameters.durationSeconds === undefined && duration === undefined) duration = parseFfmpegDuration(line);
        return;
      }
      lastStats = line.trim();
      if (progress.final) {
        context.log(lastStats);
        lastStats = undefined;
      }
      const parts = [`ffmpeg: ${progress.seconds === undefined ? '' : clock(progress.seconds)}`];
      if (progress.frame !== undefined) parts.push(`frame ${progress.frame}`);
      if (progress.speed !== undefined) parts.push(`${progress.speed}x`);
      if (progress.percent !== undefined) context.progress(progress.percent / 100, parts.join(', '));
      else context.activity(parts.join(', '));
    },
  });
  // The last stats line says how it ended (size, time, speed), if ffmpeg printed no final one.
  if (lastStats !== undefined) context.log(lastStats);
  if (parameters.output !== undefined) {
    const written = await stat(parameters.output).catch(() => undefined);
    if (!written || written.size === 0)
      throw new CommandError(`ffmpeg finished but wrote nothing to ${parameters.output}`);
  }
  context.progress(1, 'ffmpeg: done');
};
