import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Task } from '../contract/index.js';
import { ProtocolWorker, type TestManager } from './farm.js';

/** Shorthands for tests that drive a test manager's jobs, tasks and protocol workers over HTTP. */

export async function submit(m: TestManager, body: Record<string, unknown> = {}): Promise<{ id: string }> {
  const response = await m.api('POST', '/jobs', {
    name: 'echo',
    type: 'echo-sleep',
    settings: { message: 'hi' },
    ...body,
  });
  assert.equal(response.status, 201, JSON.stringify(response.body));
  return response.body;
}
export const job = async (m: TestManager, id: string) => (await m.api('GET', `/jobs/${id}`)).body;
export const tasksOf = async (m: TestManager, id: string): Promise<Task[]> =>
  (await m.api('GET', `/jobs/${id}/tasks`)).body.tasks;
export const task = async (m: TestManager, id: string) => (await m.api('GET', `/tasks/${id}`)).body;
export const workers = (m: TestManager, n: number, options = {}) =>
  Promise.all(Array.from({ length: n }, (_, i) => new ProtocolWorker(m, `w${i + 1}`, options).register()));

/**
 * A job type with explicit priorities and a diamond of dependencies, loaded from the
 * manager's job_types_dir as administrators add them.
 */
export function writeDiamondType(dir: string): void {
  writeFileSync(
    join(dir, 'diamond.mjs'),
    `export default ({ Type, makeCommand }) => ({
      name: 'diamond', label: 'Diamond', description: 'A fans out to B and C, which fan in to D',
      settingsSchema: Type.Object({}, { additionalProperties: false }),
      compile: () => [
        { name: 'A', type: 'misc', commands: [makeCommand('echo', { message: 'A' })], dependsOn: [] },
        { name: 'B', type: 'misc', priority: 40, commands: [makeCommand('echo', { message: 'B' })], dependsOn: [0] },
        { name: 'C', type: 'misc', priority: 60, commands: [makeCommand('echo', { message: 'C' })], dependsOn: [0] },
        { name: 'D', type: 'misc', commands: [makeCommand('echo', { message: 'D' })], dependsOn: [1, 2] },
      ],
    });\n`,
  );
}

/** Many misc tasks and one video task, none depending on another. */
export function writeTwoTypesType(dir: string): void {
  writeFileSync(
    join(dir, 'two-types.mjs'),
    `export default ({ Type, makeCommand }) => ({
      name: 'two-types', label: 'Two task types', description: 'misc tasks and a video task',
      settingsSchema: Type.Object({}, { additionalProperties: false }),
      compile: () => [
        ...Array.from({ length: 20 }, (_, i) => ({ name: 'misc ' + i, type: 'misc', commands: [makeCommand('echo', { message: 'm' })], dependsOn: [] })),
        { name: 'video', type: 'video', priority: 10, commands: [makeCommand('echo', { message: 'v' })], dependsOn: [] },
      ],
    });\n`,
  );
}
