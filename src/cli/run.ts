import { UserError } from '../util/errors.js';

/**
 * Wraps a command's action: a UserError becomes one line on stderr and a non-zero exit;
 * anything else is a bug, reported in one line too (with the stack when KILN_DEBUG is set).
 */
export function action<A extends unknown[]>(
  fn: (...args: A) => Promise<void> | Promise<number | undefined> | number | undefined,
) {
  return async (...args: A): Promise<void> => {
    try {
      const code = await fn(...args);
      if (typeof code === 'number') process.exitCode = code;
    } catch (error) {
      process.exitCode = reportError(error);
    }
  };
}

/**
 * Output piped into a program that stops reading (`kiln jobs ls | head -1`) closes the pipe;
 * the next write fails with EPIPE. That is the reader's choice, not an error: end quietly.
 */
export function endQuietlyOnBrokenPipe(stream: NodeJS.WriteStream = process.stdout): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

export function reportError(error: unknown): number {
  if (error instanceof UserError) {
    process.stderr.write(`kiln: ${error.message}\n`);
    return error.options.exitCode ?? 1;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`kiln: internal error: ${message.split('\n')[0]}\n`);
  if (process.env.KILN_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  return 70; // EX_SOFTWARE
}
