/** `exec`: runs a program with an argument vector (never a shell); its output goes to the log. */
import type { CommandHandler } from './types.js';
import { runProgram } from './process.js';

export const runExec: CommandHandler<'exec'> = async (parameters, context) => {
  const program = parameters.argv[0] ?? '';
  context.activity(`running ${program}`);
  await runProgram(program, {
    argv: parameters.argv,
    cwd: parameters.cwd,
    env: parameters.env,
    signal: context.signal,
    killGraceMs: context.killGraceMs,
    processGroups: context.processGroups,
    io: context.io,
    onLine: (line) => context.log(line),
  });
  context.progress(1);
};
