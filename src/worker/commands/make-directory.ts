/** `make-directory`: creates a folder and any missing parents; an existing folder is fine. */
import { mkdir, stat } from 'node:fs/promises';
import { CommandError, passIoGate, throwIfAborted, type CommandHandler } from './types.js';

export const runMakeDirectory: CommandHandler<'make-directory'> = async (parameters, context) => {
  throwIfAborted(context.signal);
  await passIoGate(context);
  try {
    const created = await mkdir(parameters.path, { recursive: true });
    context.log(created === undefined ? `folder ${parameters.path} exists` : `created folder ${parameters.path}`);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTDIR') {
      const isFile = await stat(parameters.path).then(
        (info) => !info.isDirectory(),
        () => true,
      );
      if (isFile) throw new CommandError(`cannot create folder ${parameters.path}: a file is in the way`);
    }
    throw new CommandError(`cannot create folder ${parameters.path}: ${(error as Error).message}`);
  }
  context.progress(1);
};
