import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../util/errors.js';
import { parseSettings, validateSettings } from './settings.js';
import { renderJobType } from './types/render.js';
import { transcodeJobType } from './types/transcode.js';
import { commandJobType } from './types/command.js';

test('validateSettings applies defaults without changing its input', () => {
  const input = { output: '/out' };
  const result = validateSettings(renderJobType, input);
  assert.deepEqual(result, {
    ok: true,
    settings: { output: '/out', renderer: 'builtin', width: 1280, height: 720, fps: 24, video: true },
  });
  assert.deepEqual(input, { output: '/out' });
});

test('validateSettings names the field and the reason', () => {
  const cases: Array<[string, unknown, string, RegExp]> = [
    ['missing', {}, 'settings.output', /^settings\.output is required$/],
    [
      'not an integer',
      { output: '/o', width: 1.5 },
      'settings.width',
      /^settings\.width must be an integer from 1 to 16384, got 1\.5$/,
    ],
    ['below the minimum', { output: '/o', height: 0 }, 'settings.height', /must be an integer from 1 to 16384, got 0/],
    ['wrong type', { output: '/o', width: '1280' }, 'settings.width', /must be an integer/],
    ['number bound', { output: '/o', fps: 0 }, 'settings.fps', /must be a number greater than 0/],
    ['boolean', { output: '/o', video: 'yes' }, 'settings.video', /must be true or false/],
    ['empty text', { output: '' }, 'settings.output', /must not be empty/],
    [
      'literal union',
      { output: '/o', renderer: 'maya' },
      'settings.renderer',
      /must be one of builtin, blender, got "maya"/,
    ],
    [
      'unknown key',
      { output: '/o', resolution: 4 },
      'settings.resolution',
      /settings\.resolution is not a setting of render jobs/,
    ],
    [
      'cross-field rule',
      { output: '/o', renderer: 'blender' },
      'settings.blendFile',
      /is required when settings\.renderer is blender/,
    ],
    ['not an object', [1, 2], 'settings', /must be an object/],
    ['not an object', 'x', 'settings', /must be an object/],
  ];
  for (const [what, settings, field, message] of cases) {
    const result = validateSettings(renderJobType, settings);
    assert.equal(result.ok, false, what);
    if (result.ok) continue;
    assert.ok(result.error instanceof UserError, what);
    assert.equal(result.error.field, field, what);
    assert.equal(result.error.code, 'invalid_settings', what);
    assert.match(result.error.message, message, what);
  }
});

test('validateSettings reports nested and list fields by path', () => {
  const list = validateSettings(commandJobType, { argv: ['x', 3] });
  assert.equal(list.ok ? undefined : list.error.field, 'settings.argv.1');
  const empty = validateSettings(commandJobType, { argv: [] });
  assert.match(empty.ok ? '' : empty.error.message, /settings\.argv must not be empty/);
  const record = validateSettings(commandJobType, { argv: ['x'], env: { A: 1 } });
  assert.equal(record.ok ? undefined : record.error.field, 'settings.env.A');
  const pattern = validateSettings(commandJobType, { argv: ['x'], taskType: 'Bad Type' });
  assert.match(pattern.ok ? '' : pattern.error.message, /settings\.taskType must be a lower-case task type name/);
  const even = validateSettings(transcodeJobType, { input: 'a', output: 'b', width: 641 });
  assert.match(even.ok ? '' : even.error.message, /settings\.width must be an even number/);
});

test('null or missing settings mean "all defaults"', () => {
  assert.equal(validateSettings(commandJobType, null).ok, false); // argv is required
  assert.deepEqual(parseSettings(transcodeJobType, { input: 'a', output: 'b' }), {
    input: 'a',
    output: 'b',
    videoCodec: 'h264',
    audioCodec: 'aac',
  });
});

test('parseSettings throws the UserError', () => {
  assert.throws(
    () => parseSettings(renderJobType, {}),
    (error: unknown) => error instanceof UserError && error.field === 'settings.output',
  );
});
