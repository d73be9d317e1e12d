import { TypeCompiler } from '@sinclair/typebox/compiler';
import { CompiledTaskSchema, type CompiledTask } from './types.js';

/**
 * A job type that is broken (a module that does not load, or a compile that returns tasks
 * breaking the contract). Not the submitter's mistake; the message names the job type.
 */
export class JobTypeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'JobTypeError';
  }
}

const taskChecker = TypeCompiler.Compile(CompiledTaskSchema);

/**
 * Checks what a job type's compile returned against the contract: at least one task, each
 * matching CompiledTaskSchema (so every command is one the worker knows, with valid parameters),
 * and `dependsOn` naming only earlier tasks, each once. Throws JobTypeError.
 */
export function checkCompiledTasks(jobTypeName: string, tasks: unknown): asserts tasks is CompiledTask[] {
  const fail = (message: string): never => {
    throw new JobTypeError(`job type "${jobTypeName}" compiled an invalid job: ${message}`);
  };
  if (!Array.isArray(tasks)) fail('compile must return an array of tasks');
  const list = tasks as unknown[];
  if (list.length === 0) fail('it has no tasks');
  for (let index = 0; index < list.length; index++) {
    const task = list[index];
    if (!taskChecker.Check(task)) {
      const error = taskChecker.Errors(task).First();
      fail(`task ${index}${error ? ` at ${error.path || '/'}: ${error.message}` : ''}`);
    }
    const seen = new Set<number>();
    for (const dependency of (task as CompiledTask).dependsOn) {
      if (dependency >= index)
        fail(`task ${index} depends on task ${dependency}; a task may only depend on earlier tasks`);
      if (seen.has(dependency)) fail(`task ${index} lists task ${dependency} twice in dependsOn`);
      seen.add(dependency);
    }
  }
}
