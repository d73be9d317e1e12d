import { Type } from '@sinclair/typebox';
import { defineJobType } from '../define.js';
import { chunkFrames, formatFrames, parseFrameRange } from '../frame-range.js';
import { makeCommand, TaskType, type Command } from '../types.js';

const DEFAULT_ECHO_SLEEP_CHUNK_SIZE = 4;

/**
 * The program the `fail` setting runs. No host has it, so starting it fails on every platform
 * (ENOENT) without a shell or any particular program installed.
 */
export const FAIL_PROGRAM = 'kiln-echo-sleep-fails-on-purpose';

const EchoSleepSettings = Type.Object(
  {
    message: Type.String({ default: 'hello', description: 'printed to the task log' }),
    sleepSeconds: Type.Number({ minimum: 0, maximum: 86400, default: 0, description: 'then wait this long' }),
    fail: Type.Optional(Type.Boolean({ description: 'then fail the task, by running a program that does not exist' })),
    tasks: Type.Integer({
      minimum: 1,
      maximum: 1_000_000,
      default: 1,
      description: 'number of tasks when the job has no frames',
    }),
  },
  { additionalProperties: false },
);

/**
 * For testing the farm. Each task echoes the message, sleeps (when sleepSeconds > 0) and, with
 * `fail`, ends with an `exec` of FAIL_PROGRAM, which fails on any worker. One task per frame
 * chunk when the job has frames (job.chunkSize, default 4; `tasks` is then ignored), else
 * `tasks` tasks. Task type `misc`.
 */
export const echoSleepJobType = defineJobType({
  name: 'echo-sleep',
  label: 'Echo and sleep',
  description: 'Testing: each task prints a message, waits, and optionally fails.',
  settingsSchema: EchoSleepSettings,
  compile(job) {
    const { settings } = job;
    const commands = (): Command[] => [
      makeCommand('echo', { message: settings.message }),
      ...(settings.sleepSeconds > 0 ? [makeCommand('sleep', { seconds: settings.sleepSeconds })] : []),
      ...(settings.fail ? [makeCommand('exec', { argv: [FAIL_PROGRAM] })] : []),
    ];
    const names = job.frames?.trim()
      ? chunkFrames(parseFrameRange(job.frames), job.chunkSize ?? DEFAULT_ECHO_SLEEP_CHUNK_SIZE).map(
          (chunk) => `echo-sleep ${formatFrames(chunk)}`,
        )
      : Array.from({ length: settings.tasks }, (_, index) => `echo-sleep ${index + 1}`);
    return names.map((name) => ({ name, type: TaskType.misc, commands: commands(), dependsOn: [] }));
  },
});
