import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { UserError } from '../util/errors.js';
import { JobTypeError } from './compiled-tasks.js';
import { JobTypeRegistry, createJobTypeRegistry, etag } from './registry.js';
import { renderJobType } from './types/render.js';
import type { JobToCompile, JobType } from './types.js';

const job = (
  type: string,
  settings: Record<string, unknown> = {},
  overrides: Partial<JobToCompile> = {},
): JobToCompile => ({
  id: 'job-9',
  name: 'test',
  type,
  priority: 50,
  settings,
  ...overrides,
});

const tempDir = (t: { after: (fn: () => void) => void }): string => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-job-types-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
};

test('the registry starts with the built-in job types', () => {
  const registry = new JobTypeRegistry();
  assert.deepEqual(
    registry.list().map((type) => type.name),
    ['render', 'frames-to-video', 'transcode', 'command', 'echo-sleep'],
  );
  const summary = registry.summaries().find((type) => type.name === 'render')!;
  assert.equal(summary.label, 'Render');
  assert.equal(summary.etag, etag(renderJobType));
  assert.throws(
    () => registry.require('maya'),
    (error: unknown) =>
      error instanceof UserError &&
      error.field === 'type' &&
      error.code === 'unknown_job_type' &&
      /known types: render/.test(error.message),
  );
});

test('etag: sha256 of name and schema, independent of key order, stable across processes', () => {
  const a = {
    name: 'x',
    settingsSchema: Type.Object({ a: Type.String(), b: Type.Integer({ minimum: 1, default: 2 }) }),
  };
  const reordered = {
    name: 'x',
    settingsSchema: Type.Object({ b: Type.Integer({ default: 2, minimum: 1 }), a: Type.String() }),
  };
  assert.match(etag(a), /^[0-9a-f]{64}$/);
  assert.equal(etag(a), etag({ ...a }));
  assert.equal(etag(a), etag(reordered));
  assert.notEqual(etag(a), etag({ ...a, name: 'y' }));
  assert.notEqual(
    etag(a),
    etag({ name: 'x', settingsSchema: Type.Object({ a: Type.String(), b: Type.Integer({ minimum: 0, default: 2 }) }) }),
  );

  // A fresh process (a restarted manager) computes the same etags.
  const registry = new JobTypeRegistry();
  const url = new URL('./registry.js', import.meta.url).href;
  const child = spawnSync(process.execPath, [
    '--input-type=module',
    '-e',
    `import { JobTypeRegistry } from ${JSON.stringify(url)}; const r = new JobTypeRegistry(); console.log(JSON.stringify(r.list().map((t) => r.etag(t.name))));`,
  ]);
  assert.equal(child.status, 0, child.stderr.toString());
  assert.deepEqual(
    JSON.parse(child.stdout.toString()),
    registry.list().map((type) => registry.etag(type.name)),
  );
});

test('validateSettings by name', () => {
  const registry = new JobTypeRegistry();
  const good = registry.validateSettings('echo-sleep', { message: 'x' });
  assert.deepEqual(good, { ok: true, settings: { message: 'x', sleepSeconds: 0, tasks: 1 } });
  const bad = registry.validateSettings('render', { output: '/o', width: 'wide' });
  assert.equal(bad.ok, false);
  assert.equal(bad.ok ? undefined : bad.error.field, 'settings.width');
  assert.throws(() => registry.validateSettings('nope', {}), UserError);
});

test('compile validates settings and checks the tasks a job type returns', () => {
  const registry = new JobTypeRegistry();
  assert.equal(registry.compile(job('render', { output: '/o' }, { frames: '1-8' })).length, 3);
  assert.throws(
    () => registry.compile(job('render', { output: '/o', fps: 'fast' }, { frames: '1' })),
    (error: unknown) => error instanceof UserError && error.field === 'settings.fps',
  );

  const broken = (name: string, compile: JobType['compile']): JobType => ({
    name,
    label: name,
    description: '',
    settingsSchema: Type.Object({}),
    compile,
  });
  const echo = { name: 'echo' as const, parameters: { message: 'x' } };
  const cases: Array<[JobType, RegExp]> = [
    [broken('empty', () => []), /has no tasks/],
    [
      broken('forward', () => [
        { name: 'a', type: 'misc', commands: [echo], dependsOn: [1] },
        { name: 'b', type: 'misc', commands: [echo], dependsOn: [] },
      ]),
      /task 0 depends on task 1/,
    ],
    [
      broken('self', () => [{ name: 'a', type: 'misc', commands: [echo], dependsOn: [0] }]),
      /only depend on earlier tasks/,
    ],
    [
      broken('twice', () => [
        { name: 'a', type: 'misc', commands: [echo], dependsOn: [] },
        { name: 'b', type: 'misc', commands: [echo], dependsOn: [0, 0] },
      ]),
      /twice/,
    ],
    [
      broken('unknown-command', () => [
        {
          name: 'a',
          type: 'misc',
          commands: [{ name: 'shell', parameters: { line: 'rm -rf /' } } as never],
          dependsOn: [],
        },
      ]),
      /task 0/,
    ],
    [
      broken('bad-parameters', () => [
        { name: 'a', type: 'misc', commands: [{ name: 'sleep', parameters: { seconds: -1 } }], dependsOn: [] },
      ]),
      /task 0 at \/commands\/0/,
    ],
    [
      broken('priority', () => [{ name: 'a', type: 'misc', priority: 101, commands: [echo], dependsOn: [] }]),
      /task 0 at \/priority/,
    ],
    [
      broken('throws', () => {
        throw new TypeError('oops');
      }),
      /job type "throws" failed to compile job job-9: oops/,
    ],
  ];
  for (const [type, message] of cases) {
    registry.register(type);
    assert.throws(
      () => registry.compile(job(type.name)),
      (error: unknown) => error instanceof JobTypeError && message.test(error.message),
      type.name,
    );
  }
});

test('register refuses malformed job types and taken names', () => {
  const registry = new JobTypeRegistry([]);
  const valid: JobType = {
    name: 'ok',
    label: 'OK',
    description: '',
    settingsSchema: Type.Object({}),
    compile: () => [],
  };
  registry.register(valid);
  assert.throws(() => registry.register(valid), /already registered/);
  registry.register(valid, { replace: true });
  assert.throws(() => registry.register({ ...valid, name: 'Not OK' }), /lower-case words/);
  assert.throws(
    () => registry.register({ ...valid, name: 'plain', settingsSchema: { type: 'object', properties: {} } as never }),
    /TypeBox Type.Object/,
  );
});

test('loadDirectory loads job type modules and skips broken ones, naming the file', async (t) => {
  const dir = tempDir(t);
  const files: Record<string, string> = {
    // A factory receives the kit, since a file here cannot import TypeBox by itself.
    'a-factory.mjs': `
      export default ({ Type, defineJobType, makeCommand }) => defineJobType({
        name: 'say', label: 'Say', description: 'says words',
        settingsSchema: Type.Object({ words: Type.String({ default: 'hi' }) }),
        compile: (job) => [{ name: 'say', type: 'misc', commands: [makeCommand('echo', { message: job.settings.words })], dependsOn: [] }],
      });`,
    // A plain object with a schema written by hand (TypeBox's Kind symbol is global).
    'b-plain.js': `
      const Kind = Symbol.for('TypeBox.Kind');
      export default {
        name: 'nap', label: 'Nap', description: '',
        settingsSchema: { [Kind]: 'Object', type: 'object', properties: {}, required: [] },
        compile: () => [{ name: 'nap', type: 'misc', commands: [{ name: 'sleep', parameters: { seconds: 1 } }], dependsOn: [] }],
      };`,
    'c-syntax.mjs': 'export default {',
    'd-no-default.mjs': 'export const type = {};',
    'e-bad-name.mjs':
      "export default { name: 'Bad Name', label: 'x', description: '', settingsSchema: {}, compile() {} };",
    'f-duplicate.mjs':
      "export default ({ Type }) => ({ name: 'say', label: 'Again', description: '', settingsSchema: Type.Object({}), compile: () => [] });",
    'g-throws.mjs': "throw new Error('cannot start');",
    'h-render.mjs':
      "export default ({ Type }) => ({ name: 'render', label: 'Studio render', description: '', settingsSchema: Type.Object({}), compile: () => [] });",
    'notes.txt': 'not a module',
    '.hidden.mjs': 'export default {',
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);

  const registry = new JobTypeRegistry();
  const report = await registry.loadDirectory(dir);
  assert.deepEqual(
    report.loaded.map(({ file, name, replaced }) => [basename(file), name, replaced]),
    [
      ['a-factory.mjs', 'say', false],
      ['b-plain.js', 'nap', false],
      ['h-render.mjs', 'render', true],
    ],
  );
  const problems = Object.fromEntries(report.problems.map(({ file, message }) => [basename(file), message]));
  assert.deepEqual(Object.keys(problems), [
    'c-syntax.mjs',
    'd-no-default.mjs',
    'e-bad-name.mjs',
    'f-duplicate.mjs',
    'g-throws.mjs',
  ]);
  assert.match(problems['d-no-default.mjs']!, /no default export/);
  assert.match(problems['e-bad-name.mjs']!, /lower-case words/);
  assert.match(problems['f-duplicate.mjs']!, /"say" is already defined by a-factory\.mjs/);
  assert.match(problems['g-throws.mjs']!, /cannot start/);

  assert.deepEqual(registry.compile(job('say', { words: 'hello there' }))[0]!.commands, [
    { name: 'echo', parameters: { message: 'hello there' } },
  ]);
  assert.deepEqual(registry.validateSettings('say', {}), { ok: true, settings: { words: 'hi' } });
  assert.equal(registry.compile(job('nap')).length, 1);
  assert.equal(registry.get('render')!.label, 'Studio render');
  assert.match(registry.etag('say'), /^[0-9a-f]{64}$/);
});

test('a missing folder loads nothing; createJobTypeRegistry wires it', async (t) => {
  const dir = tempDir(t);
  const registry = new JobTypeRegistry();
  assert.deepEqual(await registry.loadDirectory(join(dir, 'absent')), { loaded: [], problems: [] });
  writeFileSync(
    join(dir, 'x.mjs'),
    "export default ({ Type }) => ({ name: 'x', label: 'X', description: '', settingsSchema: Type.Object({}), compile: () => [] });",
  );
  const { registry: wired, report } = await createJobTypeRegistry({ jobTypesDir: dir });
  assert.deepEqual(report.problems, []);
  assert.ok(wired.has('x') && wired.has('render'));
});
