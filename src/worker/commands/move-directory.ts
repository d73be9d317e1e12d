/**
 * `move-directory`: moves a folder to a new place. An existing destination is kept, renamed
 * aside to `<dest>-<its modification time>` (as Flamenco does), so re-running a job never loses
 * earlier output. Across file systems it copies (each chunk through the I/O priority gate), then
 * removes the source.
 */
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { copyTreeGated } from '../../io/index.js';
import { CommandAbortedError, CommandError, passIoGate, throwIfAborted, type CommandHandler } from './types.js';

function stamp(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d+Z$/, '')
    .replaceAll(':', '-')
    .replace('T', '_');
}

async function freeName(base: string): Promise<string> {
  for (let index = 0; ; index++) {
    const candidate = index === 0 ? base : `${base}-${index}`;
    if (
      !(await stat(candidate).then(
        () => true,
        () => false,
      ))
    )
      return candidate;
  }
}

export const runMoveDirectory: CommandHandler<'move-directory'> = async (parameters, context) => {
  throwIfAborted(context.signal);
  const { src, dest } = parameters;
  const source = await stat(src).catch((error: NodeJS.ErrnoException) => {
    throw new CommandError(
      error.code === 'ENOENT' ? `cannot move ${src}: it does not exist` : `cannot move ${src}: ${error.message}`,
    );
  });
  if (!source.isDirectory()) throw new CommandError(`cannot move ${src}: it is not a folder`);

  const existing = await stat(dest).catch(() => undefined);
  if (existing) {
    const aside = await freeName(`${dest}-${stamp(existing.mtime)}`);
    await rename(dest, aside).catch((error: Error) => {
      throw new CommandError(`cannot move the existing ${dest} aside: ${error.message}`);
    });
    context.log(`moved the existing ${dest} to ${aside}`);
  }
  await mkdir(dirname(dest), { recursive: true });
  context.activity(`moving ${src} to ${dest}`);
  await passIoGate(context);
  try {
    await rename(src, dest);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV')
      throw new CommandError(`cannot move ${src} to ${dest}: ${(error as Error).message}`);
    // Another file system: copy, then remove the source.
    try {
      await copyTreeGated(src, dest, { gate: context.io, signal: context.signal });
      throwIfAborted(context.signal);
    } catch (copyError) {
      await rm(dest, { recursive: true, force: true });
      if (context.signal.aborted) throw new CommandAbortedError(context.signal.reason);
      throw new CommandError(`cannot move ${src} to ${dest}: ${(copyError as Error).message}`);
    }
    // The copy is whole: a source removed only in part must not take the copy with it.
    await rm(src, { recursive: true, force: true }).catch((rmError: unknown) =>
      context.log(`moved ${src} to ${dest}, but could not remove all of the source: ${(rmError as Error).message}`),
    );
  }
  context.log(`moved ${src} to ${dest}`);
  context.progress(1);
};
