/** `sleep`: waits (for tests and pacing), reporting progress; a stop ends it at once. */
import { SECOND } from '../../util/time.js';
import { CommandAbortedError, throwIfAborted, type CommandHandler } from './types.js';

export const runSleep: CommandHandler<'sleep'> = async (parameters, context) => {
  throwIfAborted(context.signal);
  const total = parameters.seconds * SECOND;
  const started = Date.now();
  context.progress(0, `sleeping ${parameters.seconds} s`);
  await new Promise<void>((resolve, reject) => {
    const tick = setInterval(() => {
      const elapsed = Date.now() - started;
      context.progress(
        Math.min(1, elapsed / total),
        `sleeping: ${Math.ceil(Math.max(0, total - elapsed) / SECOND)} s left`,
      );
    }, SECOND);
    const done = setTimeout(finish, total);
    function finish(): void {
      clearTimeout(done);
      clearInterval(tick);
      context.signal.removeEventListener('abort', onAbort);
      resolve();
    }
    function onAbort(): void {
      clearTimeout(done);
      clearInterval(tick);
      reject(new CommandAbortedError(context.signal.reason));
    }
    context.signal.addEventListener('abort', onAbort, { once: true });
  });
  context.progress(1);
};
