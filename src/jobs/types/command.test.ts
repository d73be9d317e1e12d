import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../../util/errors.js';
import { checkCompiledTasks } from '../compiled-tasks.js';
import type { CompiledTask, JobToCompile } from '../types.js';
import { commandJobType, expandArgv } from './command.js';

const compile = (settings: Record<string, unknown>, overrides: Partial<JobToCompile> = {}): CompiledTask[] => {
  const tasks = commandJobType.compile({
    id: 'job-4',
    name: 'cmd',
    type: 'command',
    priority: 50,
    settings,
    ...overrides,
  });
  checkCompiledTasks('command', tasks);
  return tasks;
};
const argvs = (task: CompiledTask): string[][] =>
  task.commands.map((command) => (command.name === 'exec' ? command.parameters.argv : []));

test('{first}, {last} and {frames}: one command per chunk', () => {
  const tasks = compile(
    { argv: ['/usr/bin/nuke', '-F', '{first}-{last}', '--frames={frames}', 'shot.nk'] },
    { frames: '1-8' },
  );
  assert.deepEqual(
    tasks.map((task) => [task.name, task.type, task.dependsOn]),
    [
      ['nuke 1-4', 'misc', []],
      ['nuke 5-8', 'misc', []],
    ],
  );
  assert.deepEqual(argvs(tasks[1]!), [['/usr/bin/nuke', '-F', '5-8', '--frames=5-8', 'shot.nk']]);
});

test('{frame}: one command per frame of the chunk, in order', () => {
  const tasks = compile(
    {
      argv: ['convert', 'in.{frame:4}.exr', 'out.{frame}.jpg', '{first}-{last}'],
      taskType: 'render',
      cwd: 'work',
      env: { A: '1' },
    },
    {
      frames: '1-3,10',
      chunkSize: 2,
      storage: { effectivePath: '/farm/jobs/4' },
    },
  );
  assert.deepEqual(
    tasks.map((task) => [task.name, task.type]),
    [
      ['convert 1,2', 'render'],
      ['convert 3,10', 'render'],
    ],
  );
  assert.deepEqual(argvs(tasks[1]!), [
    ['convert', 'in.0003.exr', 'out.3.jpg', '3-10'],
    ['convert', 'in.0010.exr', 'out.10.jpg', '3-10'],
  ]);
  assert.deepEqual(tasks[0]!.commands[0], {
    name: 'exec',
    parameters: { argv: ['convert', 'in.0001.exr', 'out.1.jpg', '1-2'], cwd: '/farm/jobs/4/work', env: { A: '1' } },
  });
});

test('{first}/{last} alone: chunks are split at gaps so first..last holds only requested frames', () => {
  const tasks = compile({ argv: ['tool', '{first}', '{last}'] }, { frames: '1..10,20..25,40,3..8' });
  assert.deepEqual(
    tasks.map((task) => task.name),
    ['tool 1-4', 'tool 5-8', 'tool 9,10', 'tool 20,21', 'tool 22-25', 'tool 40'],
  );
  assert.deepEqual(argvs(tasks[2]!), [['tool', '9', '10']]);
  // With {frames} the chunk is passed exactly, so it is not split.
  assert.deepEqual(
    compile({ argv: ['tool', '{frames}', '{first}'] }, { frames: '9,10,20,21' }).map((task) => task.name),
    ['tool 9,10,20,21'],
  );
});

test('no frames: one task, one command', () => {
  const tasks = compile({ argv: ['C:\\tools\\sync.exe', '--all', '{not-a-placeholder}'] });
  assert.deepEqual(tasks, [
    {
      name: 'sync.exe',
      type: 'misc',
      commands: [{ name: 'exec', parameters: { argv: ['C:\\tools\\sync.exe', '--all', '{not-a-placeholder}'] } }],
      dependsOn: [],
    },
  ]);
});

test('command errors', () => {
  const cases: Array<[Record<string, unknown>, Partial<JobToCompile>, string, RegExp]> = [
    [{ argv: ['x', '{frame}'] }, {}, 'frames', /uses \{frame\} but the job has no frames/],
    [{ argv: [] }, { frames: '1' }, 'settings.argv', /must not be empty/],
    [{ argv: ['x'], shell: true }, { frames: '1' }, 'settings.shell', /not a setting of command jobs/],
    [{ argv: ['x'] }, { frames: '1', chunkSize: -2 }, 'chunk', /chunk size/],
  ];
  for (const [settings, overrides, field, message] of cases) {
    assert.throws(
      () => compile(settings, overrides),
      (error: unknown) => error instanceof UserError && error.field === field && message.test(error.message),
      field,
    );
  }
});

test('expandArgv', () => {
  assert.deepEqual(
    expandArgv(['{frame}', '{first:3}', '{last:06}', '{frames}', '{frame}{frame}', '{x}', '{{frame}}'], {
      frame: 7,
      first: 5,
      last: 8,
      frames: '5-8',
    }),
    ['7', '005', '000008', '5-8', '77', '{x}', '{7}'],
  );
  assert.deepEqual(expandArgv(['{frame}'], { first: 1, last: 2, frames: '1,2' }), ['{frame}']);
});
