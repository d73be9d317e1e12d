/**
 * `copy-file`: copies one file. It is written beside the destination under a temporary name and
 * renamed at the end, so nobody sees half a file; a destination that is a folder gets the
 * source's name inside it. Progress by bytes; a stop removes the partial copy. Each chunk passes
 * the I/O priority gate first.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { copyFileGated } from '../../io/index.js';
import { CommandAbortedError, CommandError, throwIfAborted, type CommandHandler } from './types.js';

export const runCopyFile: CommandHandler<'copy-file'> = async (parameters, context) => {
  throwIfAborted(context.signal);
  const { src } = parameters;
  const source = await stat(src).catch((error: NodeJS.ErrnoException) => {
    throw new CommandError(
      error.code === 'ENOENT' ? `cannot copy ${src}: it does not exist` : `cannot copy ${src}: ${error.message}`,
    );
  });
  if (!source.isFile()) throw new CommandError(`cannot copy ${src}: it is not a file`);

  const destIsFolder = await stat(parameters.dest).then(
    (info) => info.isDirectory(),
    () => false,
  );
  const target =
    destIsFolder || /[\\/]$/.test(parameters.dest) ? join(parameters.dest, basename(src)) : parameters.dest;
  await mkdir(dirname(target), { recursive: true });
  const temp = join(dirname(target), `.${basename(target)}.${randomBytes(4).toString('hex')}.kiln-part`);

  context.activity(`copying ${src} to ${target}`);
  let copied = 0;
  const total = source.size;
  try {
    await copyFileGated(src, temp, {
      gate: context.io,
      signal: context.signal,
      preserveTimestamps: false,
      onBytes: (bytes) => {
        copied += bytes;
        if (total > 0) context.progress(copied / total);
      },
    });
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    if (context.signal.aborted) throw new CommandAbortedError(context.signal.reason);
    throw new CommandError(`cannot copy ${src} to ${target}: ${(error as Error).message}`);
  }
  context.log(`copied ${src} to ${target} (${total} bytes)`);
  context.progress(1);
};
