import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../../util/errors.js';
import { checkCompiledTasks } from '../compiled-tasks.js';
import type { CompiledTask, JobToCompile } from '../types.js';
import { echoSleepJobType, FAIL_PROGRAM } from './echo-sleep.js';

const compile = (settings: Record<string, unknown>, overrides: Partial<JobToCompile> = {}): CompiledTask[] => {
  const tasks = echoSleepJobType.compile({
    id: 'job-5',
    name: 'test',
    type: 'echo-sleep',
    priority: 50,
    settings,
    ...overrides,
  });
  checkCompiledTasks('echo-sleep', tasks);
  return tasks;
};

test('defaults: one task that echoes hello', () => {
  assert.deepEqual(compile({}), [
    {
      name: 'echo-sleep 1',
      type: 'misc',
      commands: [{ name: 'echo', parameters: { message: 'hello' } }],
      dependsOn: [],
    },
  ]);
});

test('tasks, sleep and fail', () => {
  const tasks = compile({ message: 'hi', sleepSeconds: 0.5, fail: true, tasks: 3 });
  assert.deepEqual(
    tasks.map((task) => task.name),
    ['echo-sleep 1', 'echo-sleep 2', 'echo-sleep 3'],
  );
  assert.deepEqual(tasks[2]!.commands, [
    { name: 'echo', parameters: { message: 'hi' } },
    { name: 'sleep', parameters: { seconds: 0.5 } },
    { name: 'exec', parameters: { argv: [FAIL_PROGRAM] } },
  ]);
});

test('frames give one task per chunk and win over tasks', () => {
  const tasks = compile({ tasks: 50 }, { frames: '1-10', chunkSize: 4 });
  assert.deepEqual(
    tasks.map((task) => task.name),
    ['echo-sleep 1-4', 'echo-sleep 5-8', 'echo-sleep 9,10'],
  );
});

test('echo-sleep settings errors', () => {
  const cases: Array<[Record<string, unknown>, string, RegExp]> = [
    [{ sleepSeconds: -1 }, 'settings.sleepSeconds', /must be a number from 0 to 86400/],
    [{ tasks: 0 }, 'settings.tasks', /must be an integer from 1 to 1000000/],
    [{ fail: 'yes' }, 'settings.fail', /must be true or false/],
    [{ message: 3 }, 'settings.message', /must be text/],
  ];
  for (const [settings, field, message] of cases) {
    assert.throws(
      () => compile(settings),
      (error: unknown) => error instanceof UserError && error.field === field && message.test(error.message),
      field,
    );
  }
});
