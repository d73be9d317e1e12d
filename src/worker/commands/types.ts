/** What every command gets from the task runner, and how it reports failure. */
import type { CommandName, CommandParameters } from '../../jobs/types.js';
import type { ProcessGroupTracker } from '../process-groups.js';

export interface CommandContext {
  /** Aborted when the task must stop (the manager said so, or the worker is shutting down). */
  signal: AbortSignal;
  /** One line for the task log. */
  log(line: string): void;
  /** This command's progress, 0-1, with an optional activity text ("frame 12 of 40"). */
  progress(fraction: number, activity?: string): void;
  activity(text: string): void;
  /** A file the command wrote that can serve as the job's preview (a rendered frame). */
  preview(path: string): void;
  /** Programs the worker's configuration names (else each is looked up as usual). */
  tools: { ffmpeg?: string | undefined; blender?: string | undefined };
  /** After SIGTERM, how long a stopped child process gets before SIGKILL. */
  killGraceMs: number;
  /** Records the process groups of the programs commands start (see process-groups.ts). */
  processGroups: ProcessGroupTracker;
  /** I/O priority (see io-pause.ts): wait before each chunk of heavy I/O; programs stop while a hold is on. */
  io: CommandIo;
}

export interface CommandIo {
  /** Resolves when heavy I/O may go on (at once unless a foreground application holds); ms waited. */
  ready(signal?: AbortSignal): Promise<number>;
  /** Stops the process group while held, continues it after, until the returned function is called. */
  pauseProcessGroup(pgid: number): () => void;
}

export type CommandHandler<N extends CommandName> = (
  parameters: CommandParameters<N>,
  context: CommandContext,
) => Promise<void>;

/** The command failed; the message goes to the task log and the task fails. */
export class CommandError extends Error {
  override readonly name = 'CommandError';
}

/** The command was stopped through its signal; the task does not fail because of it. */
export class CommandAbortedError extends Error {
  override readonly name = 'CommandAbortedError';
  constructor(reason?: unknown) {
    super(reason instanceof Error ? reason.message : reason === undefined ? 'stopped' : String(reason), {
      cause: reason,
    });
  }
}

/** Throws CommandAbortedError when the signal has fired. */
export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new CommandAbortedError(signal.reason);
}

/** Waits out an I/O priority hold before touching the storage; a stop while waiting is a stop. */
export async function passIoGate(context: Pick<CommandContext, 'io' | 'signal'>): Promise<void> {
  try {
    await context.io.ready(context.signal);
  } catch (error) {
    if (context.signal.aborted) throw new CommandAbortedError(context.signal.reason);
    throw error;
  }
}
