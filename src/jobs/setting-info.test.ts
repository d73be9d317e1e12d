import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Type } from '@sinclair/typebox';
import { UserError } from '../util/errors.js';
import { JobTypeError } from './compiled-tasks.js';
import { defineJobType } from './define.js';
import { JobTypeRegistry } from './registry.js';
import { conditionAllows, conditionHolds, describeCondition, describeSettings } from './setting-info.js';
import { validateSettings } from './settings.js';
import { commandJobType } from './types/command.js';
import { renderJobType } from './types/render.js';
import { transcodeJobType } from './types/transcode.js';
import { builtinJobTypes } from './builtins.js';

test('describeSettings reads type, default, requirement, range and meaning from the schema', () => {
  const settings = describeSettings(renderJobType.settingsSchema);
  assert.deepEqual(
    settings.map((setting) => setting.name),
    ['renderer', 'blendFile', 'output', 'width', 'height', 'fps', 'video', 'scene'],
  );
  const byName = new Map(settings.map((setting) => [setting.name, setting]));
  assert.deepEqual(byName.get('renderer'), {
    name: 'renderer',
    type: 'string',
    description: byName.get('renderer')!.description,
    required: false,
    default: 'builtin',
    allowed: ['builtin', 'blender'],
  });
  const blendFile = byName.get('blendFile')!;
  assert.equal(blendFile.type, 'string');
  assert.equal(blendFile.required, false);
  assert.deepEqual(blendFile.requiredWhen, { renderer: ['blender'] });
  assert.deepEqual(blendFile.appliesWhen, { renderer: ['blender'] });
  assert.equal(blendFile.minLength, 1);
  assert.match(blendFile.description, /Blender/);
  assert.deepEqual(byName.get('width'), {
    name: 'width',
    type: 'integer',
    description: byName.get('width')!.description,
    required: false,
    appliesWhen: { renderer: ['builtin'] },
    default: 1280,
    minimum: 1,
    maximum: 16384,
  });
  assert.equal(byName.get('output')!.required, true);
  assert.deepEqual([byName.get('fps')!.exclusiveMinimum, byName.get('fps')!.maximum], [0, 1000]);

  const command = new Map(describeSettings(commandJobType.settingsSchema).map((setting) => [setting.name, setting]));
  assert.deepEqual(
    [command.get('argv')!.type, command.get('argv')!.items, command.get('argv')!.minItems],
    ['array', 'string', 1],
  );
  assert.deepEqual([command.get('env')!.type, command.get('env')!.items], ['object', 'string']);
  assert.equal(command.get('taskType')!.pattern, '^[a-z][a-z0-9_-]*$');
  assert.deepEqual(
    describeSettings(transcodeJobType.settingsSchema).find((setting) => setting.name === 'width')!.multipleOf,
    2,
  );
});

test('every built-in setting says what it means', () => {
  for (const type of builtinJobTypes) {
    for (const setting of describeSettings(type.settingsSchema))
      assert.ok(setting.description.length > 5, `${type.name}.${setting.name} has a description`);
  }
});

test('conditions: holds, allows (open keys match), described', () => {
  const condition = { renderer: ['blender'] };
  assert.equal(conditionHolds(condition, { renderer: 'blender' }), true);
  assert.equal(conditionHolds(condition, { renderer: 'builtin' }), false);
  assert.equal(conditionHolds(condition, {}), false);
  assert.equal(conditionAllows(condition, {}), true);
  assert.equal(conditionAllows(condition, { renderer: 'builtin' }), false);
  assert.equal(conditionAllows(undefined, { renderer: 'builtin' }), true);
  assert.equal(
    describeCondition({ videoCodec: ['h264', 'h265'], audioCodec: ['aac'] }),
    'videoCodec is h264 or h265 and audioCodec is aac',
  );
});

test('a setting the chosen renderer ignores is refused, naming the field and the renderer', () => {
  const refused = (settings: Record<string, unknown>, field: string, message: RegExp) => {
    const result = validateSettings(renderJobType, settings);
    assert.equal(result.ok, false, JSON.stringify(settings));
    if (result.ok) return;
    assert.ok(result.error instanceof UserError);
    assert.equal(result.error.field, field);
    assert.equal(result.error.code, 'invalid_settings');
    assert.match(result.error.message, message);
  };
  refused(
    { output: '/o', blendFile: '/s.blend' },
    'settings.blendFile',
    /^settings\.blendFile does not apply when settings\.renderer is builtin \(the default\); it applies only when settings\.renderer is blender$/,
  );
  refused(
    { output: '/o', renderer: 'builtin', blendFile: '/s.blend' },
    'settings.blendFile',
    /does not apply when settings\.renderer is builtin;/,
  );
  refused(
    { output: '/o', renderer: 'blender', blendFile: '/s.blend', width: 640 },
    'settings.width',
    /settings\.width does not apply when settings\.renderer is blender; it applies only when settings\.renderer is builtin/,
  );
  refused(
    { output: '/o', renderer: 'blender', blendFile: '/s.blend', height: 360 },
    'settings.height',
    /does not apply/,
  );
  refused(
    { output: '/o', renderer: 'blender' },
    'settings.blendFile',
    /^settings\.blendFile is required when settings\.renderer is blender$/,
  );
});

test("defaults of settings that do not apply are left out of the job's settings", () => {
  const blender = validateSettings(renderJobType, { output: '/o', renderer: 'blender', blendFile: '/s.blend' });
  assert.deepEqual(blender.ok && blender.settings, {
    output: '/o',
    renderer: 'blender',
    blendFile: '/s.blend',
    fps: 24,
    video: true,
  });
  const builtin = validateSettings(renderJobType, { output: '/o', width: 640 });
  assert.deepEqual(builtin.ok && builtin.settings, {
    output: '/o',
    renderer: 'builtin',
    width: 640,
    height: 720,
    fps: 24,
    video: true,
  });
  // The registry validates, then the type validates its validated settings again: still fine.
  const tasks = new JobTypeRegistry().compile({
    id: 'j',
    name: 'j',
    type: 'render',
    priority: 50,
    frames: '1',
    settings: { output: '/o', renderer: 'blender', blendFile: '/s.blend' },
  });
  assert.equal(tasks[0]!.commands[1]!.name, 'blender');
});

test('register refuses conditions naming settings that do not exist', () => {
  const type = (property: Record<string, unknown>) =>
    defineJobType({
      name: 'cond',
      label: 'Cond',
      description: '',
      settingsSchema: Type.Object({ mode: Type.String(), extra: Type.Optional(Type.String(property)) }),
      compile: () => [],
    });
  const registry = new JobTypeRegistry([]);
  assert.throws(
    () => registry.register(type({ appliesWhen: { mood: ['a'] } })),
    (error: unknown) =>
      error instanceof JobTypeError && /appliesWhen names "mood", which is not a setting/.test(error.message),
  );
  assert.throws(
    () => registry.register(type({ requiredWhen: { mode: [] } })),
    /requiredWhen\.mode must be a non-empty list/,
  );
  assert.throws(() => registry.register(type({ appliesWhen: 'a' })), /appliesWhen must be an object/);
  registry.register(type({ appliesWhen: { mode: ['a', 'b'] } }));
  assert.deepEqual(registry.detail('cond')!.settings.find((setting) => setting.name === 'extra')!.appliesWhen, {
    mode: ['a', 'b'],
  });
  assert.equal(registry.detail('nope'), undefined);
});
