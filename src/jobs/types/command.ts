import { Type } from '@sinclair/typebox';
import { UserError } from '../../util/errors.js';
import { defineJobType } from '../define.js';
import { chunkFrames, formatFrames, parseFrameRange, splitRuns } from '../frame-range.js';
import { resolveJobPath } from '../paths.js';
import { makeCommand, TaskType, type CompiledTask, type Command } from '../types.js';

const DEFAULT_COMMAND_CHUNK_SIZE = 4;

const CommandSettings = Type.Object(
  {
    argv: Type.Array(Type.String(), {
      minItems: 1,
      description:
        'program and arguments, run without a shell; {frame}, {first}, {last} (optionally zero-padded: {frame:4}) and {frames} are replaced',
    }),
    cwd: Type.Optional(Type.String({ minLength: 1, description: 'working directory on the worker' })),
    env: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'extra environment variables' })),
    taskType: Type.String({
      pattern: '^[a-z][a-z0-9_-]*$',
      default: TaskType.misc,
      description: 'a lower-case task type name; only workers that declare it run these tasks',
    }),
  },
  { additionalProperties: false },
);

const PLACEHOLDER = /\{(?:(frame|first|last)(?::(\d{1,2}))?|(frames))\}/g;
type Placeholder = 'frame' | 'first' | 'last' | 'frames';

/**
 * Runs any program per frame chunk. Placeholders in `argv` (other braces are left alone):
 *
 * - `{first}`, `{last}`: the chunk's lowest and highest frame; `{frames}`: the chunk in
 *   compact form (`1-4`, `9,10,20,21`). `{frame:4}`, `{first:4}`, `{last:4}` zero-pad to 4 digits.
 * - `{frame}`: the task holds one command per frame of its chunk, run in order, each with
 *   `{frame}` set to that frame (`{first}`, `{last}`, `{frames}` still describe the chunk).
 * - Chunks are job.chunkSize frames (default 4). When argv uses `{first}`/`{last}` but neither
 *   `{frame}` nor `{frames}`, each chunk is also split at gaps, so that first..last never takes
 *   in a frame the job did not ask for (`9,10,20,21` becomes tasks `9,10` and `20,21`).
 * - Without job.frames there is one task with one command, and argv may not use placeholders.
 */
export const commandJobType = defineJobType({
  name: 'command',
  label: 'Command',
  description:
    'Runs a program (no shell) for each chunk of frames, with {frame}, {first}, {last} and {frames} in its arguments.',
  settingsSchema: CommandSettings,
  compile(job) {
    const { settings } = job;
    const used = placeholdersIn(settings.argv);
    const [programPath] = settings.argv;
    if (programPath === undefined) throw new Error('settings.argv is empty; its schema asks for at least one item');
    const program = programName(programPath);
    const exec = (argv: string[]): Command =>
      makeCommand('exec', {
        argv,
        ...(settings.cwd ? { cwd: resolveJobPath(job, settings.cwd, 'settings.cwd') } : {}),
        ...(settings.env ? { env: settings.env } : {}),
      });

    if (!job.frames?.trim()) {
      if (used.size > 0) {
        throw new UserError(
          `settings.argv uses {${[...used].join('}, {')}} but the job has no frames; give frames, e.g. 1-100`,
          {
            field: 'frames',
            code: 'invalid_frames',
          },
        );
      }
      return [{ name: program, type: settings.taskType, commands: [exec(settings.argv)], dependsOn: [] }];
    }

    let chunks = chunkFrames(parseFrameRange(job.frames), job.chunkSize ?? DEFAULT_COMMAND_CHUNK_SIZE);
    if ((used.has('first') || used.has('last')) && !used.has('frame') && !used.has('frames'))
      chunks = chunks.flatMap(splitRuns);

    return chunks.map((chunk): CompiledTask => {
      const text = formatFrames(chunk);
      const first = chunk[0];
      const last = chunk.at(-1);
      if (first === undefined || last === undefined)
        throw new Error('a frame chunk is empty; chunks have 1 frame or more');
      const values = { first, last, frames: text };
      const commands = used.has('frame')
        ? chunk.map((frame) => exec(expandArgv(settings.argv, { ...values, frame })))
        : [exec(expandArgv(settings.argv, values))];
      return { name: `${program} ${text}`, type: settings.taskType, commands, dependsOn: [] };
    });
  },
});

interface Values {
  frame?: number;
  first: number;
  last: number;
  frames: string;
}

/** Replaces the placeholders in each argument; see commandJobType. */
export function expandArgv(argv: readonly string[], values: Values): string[] {
  return argv.map((arg) =>
    arg.replace(PLACEHOLDER, (match, name: 'frame' | 'first' | 'last' | undefined, width: string | undefined) => {
      if (name === undefined) return values.frames;
      const number = values[name];
      if (number === undefined) return match;
      return width ? String(number).padStart(Number(width), '0') : String(number);
    }),
  );
}

function placeholdersIn(argv: readonly string[]): Set<Placeholder> {
  const used = new Set<Placeholder>();
  for (const arg of argv)
    for (const match of arg.matchAll(PLACEHOLDER)) used.add((match[1] ?? match[3]) as Placeholder);
  return used;
}

const programName = (program: string): string => program.split(/[/\\]/).filter(Boolean).at(-1) ?? program;
