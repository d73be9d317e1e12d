/**
 * The commands a worker knows, one file each, and checking a command from the manager before
 * running it: parameters refuse unknown keys, so a command this worker does not fully
 * understand fails loudly instead of running half-understood.
 */
import { Value } from '@sinclair/typebox/value';
import { CommandSchema, type Command, type CommandName } from '../../jobs/types.js';
import { runBlender } from './blender.js';
import { runCopyFile } from './copy-file.js';
import { runEcho } from './echo.js';
import { runExec } from './exec.js';
import { runFfmpeg } from './ffmpeg.js';
import { runMakeDirectory } from './make-directory.js';
import { runMoveDirectory } from './move-directory.js';
import { runRenderFrames } from './render-frames.js';
import { runSleep } from './sleep.js';
import { CommandError, type CommandContext, type CommandHandler } from './types.js';

const COMMAND_HANDLERS: { readonly [N in CommandName]: CommandHandler<N> } = Object.freeze({
  exec: runExec,
  'render-frames': runRenderFrames,
  blender: runBlender,
  ffmpeg: runFfmpeg,
  'copy-file': runCopyFile,
  'move-directory': runMoveDirectory,
  'make-directory': runMakeDirectory,
  echo: runEcho,
  sleep: runSleep,
});

const COMMAND_NAMES = Object.keys(COMMAND_HANDLERS) as CommandName[];

/** The command as sent, checked against the command schema; CommandError says what is wrong. */
export function checkCommand(value: unknown): Command {
  if (Value.Check(CommandSchema, value)) return value;
  const name = (value as { name?: unknown } | null)?.name;
  if (typeof name !== 'string' || !(COMMAND_NAMES as string[]).includes(name)) {
    throw new CommandError(`unknown command ${JSON.stringify(name)}; this worker runs ${COMMAND_NAMES.join(', ')}`);
  }
  // The union's errors are vague; check against the one member with this name.
  const member = CommandSchema.anyOf.find((schema) => schema.properties.name.const === name);
  const error = member ? Value.Errors(member, value).First() : undefined;
  const where = error?.path ? error.path.replace(/^\//, '').replaceAll('/', '.') : '';
  throw new CommandError(
    `invalid ${name} command${where ? `: ${where}` : ''}: ${error?.message ?? 'does not match its schema'}`,
  );
}

export async function runCommand(command: Command, context: CommandContext): Promise<void> {
  const handler = COMMAND_HANDLERS[command.name] as CommandHandler<CommandName>;
  await handler(command.parameters as never, context);
}

export { CommandAbortedError, CommandError, type CommandContext } from './types.js';
