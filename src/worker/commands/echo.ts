/** `echo`: writes its message to the task log. */
import { splitLines } from '../../media/lines.js';
import type { CommandHandler } from './types.js';
import { throwIfAborted } from './types.js';

export const runEcho: CommandHandler<'echo'> = async (parameters, context) => {
  throwIfAborted(context.signal);
  const lines = splitLines(parameters.message);
  for (const line of lines.length ? lines : ['']) context.log(line);
  context.progress(1);
};
