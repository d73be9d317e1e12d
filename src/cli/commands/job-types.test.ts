import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { JobTypeRegistry } from '../../jobs/index.js';
import { useFileFarm, type TestManager } from '../../testing/farm.js';
import { assertOneLineError, runKiln, type CliResult } from '../../testing/cli.js';
import { settingLimits, settingRequirement, settingsFor } from './job-types.js';

let m: TestManager;
let home: string;
useFileFarm({ before, after }, {}, (farm) => ({ manager: m, home } = farm));

const kiln = (args: string[]): Promise<CliResult> =>
  runKiln(args, { env: { KILN_MANAGER: m.url, KILN_HOME: home, KILN_TOKEN: '' } });

/** The lines of `show` output from `  NAME ...` to the next setting or group. */
function settingBlock(stdout: string, name: string): string[] {
  const lines = stdout.split('\n');
  const start = lines.findIndex((line) => new RegExp(`^  ${name}\\s`).test(line));
  if (start === -1) return [];
  const end = lines.findIndex((line, index) => index > start && !line.startsWith('      '));
  return lines.slice(start, end);
}

/** The heading of the group a setting is listed under. */
function groupOf(stdout: string, name: string): string | undefined {
  const lines = stdout.split('\n');
  const at = lines.findIndex((line) => new RegExp(`^  ${name}\\s`).test(line));
  return lines
    .slice(0, at)
    .reverse()
    .find((line) => /^\S.*:$/.test(line));
}

describe('kiln job-types', () => {
  it('ls (also the default) lists name, label, description and the etag', async () => {
    const etags = new JobTypeRegistry();
    for (const args of [['job-types'], ['job-types', 'ls']]) {
      const result = await kiln(args);
      assert.equal(result.code, 0, result.stderr);
      const lines = result.stdout.trimEnd().split('\n');
      assert.match(lines[0]!, /^NAME\s+LABEL\s+DESCRIPTION\s+ETAG$/);
      assert.equal(lines.length, 6);
      const render = lines.find((line) => line.startsWith('render '))!;
      assert.match(render, /^render\s+Render\s+Renders a frame range with Kiln's built-in renderer or Blender/);
      assert.ok(render.endsWith(etags.etag('render').slice(0, 12)), render);
      assert.match(lines.find((line) => line.startsWith('echo-sleep '))!, /Echo and sleep\s+Testing:/);
    }
    const json = await kiln(['job-types', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const render = JSON.parse(json.stdout).jobTypes.find((type: { name: string }) => type.name === 'render');
    assert.equal(render.etag, etags.etag('render'), '--json has the whole etag');
  });

  it('show render lists every setting, grouped by the renderer it applies to', async () => {
    const result = await kiln(['job-types', 'show', 'render']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^render \(Render\)\nRenders a frame range/);
    const blendFile = settingBlock(result.stdout, 'blendFile');
    assert.match(blendFile[0]!, /^ {2}blendFile\s+string\s+required when renderer is blender\s+not empty$/);
    assert.match(blendFile[1]!, /^ {6}the Blender scene file \(\.blend\) to render/);
    assert.equal(groupOf(result.stdout, 'blendFile'), 'Only when renderer is blender:');
    assert.match(
      settingBlock(result.stdout, 'renderer')[0]!,
      /^ {2}renderer\s+string\s+default "builtin"\s+one of builtin, blender$/,
    );
    assert.equal(groupOf(result.stdout, 'renderer'), 'Settings:');
    assert.match(settingBlock(result.stdout, 'output')[0]!, /^ {2}output\s+string\s+required\s+not empty$/);
    assert.match(settingBlock(result.stdout, 'width')[0]!, /^ {2}width\s+integer\s+default 1280\s+1 to 16384$/);
    assert.equal(groupOf(result.stdout, 'width'), 'Only when renderer is builtin:');
    assert.match(
      settingBlock(result.stdout, 'fps')[0]!,
      /^ {2}fps\s+number\s+default 24\s+greater than 0, at most 1000$/,
    );
    assert.match(settingBlock(result.stdout, 'fps')[1]!, /frame rate/);
    assert.equal(groupOf(result.stdout, 'fps'), 'Settings:');
  });

  it('show render --renderer blender shows only what applies to Blender; --renderer builtin has no blendFile', async () => {
    const blender = await kiln(['job-types', 'show', 'render', '--renderer', 'blender']);
    assert.equal(blender.code, 0, blender.stderr);
    assert.match(settingBlock(blender.stdout, 'blendFile')[0]!, /^ {2}blendFile\s+string\s+required\s+not empty$/);
    assert.match(settingBlock(blender.stdout, 'renderer')[0]!, /^ {2}renderer\s+string\s+set to "blender"/);
    assert.deepEqual(settingBlock(blender.stdout, 'width'), []);
    assert.deepEqual(settingBlock(blender.stdout, 'height'), []);
    assert.doesNotMatch(blender.stdout, /Only when/);
    assert.equal(groupOf(blender.stdout, 'blendFile'), 'Settings with renderer blender:');

    const builtin = await kiln(['job-types', 'show', 'render', '--renderer', 'builtin']);
    assert.equal(builtin.code, 0, builtin.stderr);
    assert.deepEqual(settingBlock(builtin.stdout, 'blendFile'), []);
    assert.doesNotMatch(builtin.stdout, /^ {2}blendFile/m);
    assert.match(settingBlock(builtin.stdout, 'width')[0]!, /^ {2}width\s+integer\s+default 1280/);

    const json = await kiln(['job-types', 'show', 'render', '--renderer', 'blender', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const detail = JSON.parse(json.stdout);
    assert.equal(detail.name, 'render');
    const names = detail.settings.map((setting: { name: string }) => setting.name);
    assert.deepEqual(names, ['renderer', 'blendFile', 'output', 'fps', 'video', 'scene']);
    const blendFile = detail.settings.find((setting: { name: string }) => setting.name === 'blendFile');
    assert.deepEqual([blendFile.type, blendFile.required, blendFile.appliesWhen], ['string', true, undefined]);
    assert.match(blendFile.description, /Blender/);
  });

  it('show --json without a renderer is what the API describes', async () => {
    const json = await kiln(['job-types', 'show', 'command', '--json']);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), (await m.api('GET', '/job-types/command')).body);
  });

  it('an unknown type, an unknown renderer, or --renderer on a type without one: one line, non-zero exit', async () => {
    const [unknown, maya, transcode] = await Promise.all([
      kiln(['job-types', 'show', 'maya']),
      kiln(['job-types', 'show', 'render', '--renderer', 'maya']),
      kiln(['job-types', 'show', 'transcode', '--renderer', 'blender']),
    ]);
    assertOneLineError(
      unknown,
      /unknown job type "maya"; known types: command, echo-sleep, frames-to-video, render, transcode/,
    );
    assertOneLineError(maya, /--renderer must be one of builtin, blender, got "maya"/);
    assertOneLineError(transcode, /transcode jobs have no renderer setting/);
  });

  it('settings in words', () => {
    const setting = { name: 'x', type: 'integer', description: '', required: false };
    assert.equal(settingRequirement({ ...setting, required: true }), 'required');
    assert.equal(
      settingRequirement({ ...setting, requiredWhen: { mode: ['a', 'b'] } }),
      'required when mode is a or b',
    );
    assert.equal(settingRequirement({ ...setting, default: 'x' }), 'default "x"');
    assert.equal(settingRequirement(setting), 'optional');
    assert.equal(settingLimits({ ...setting, minimum: 0 }), 'at least 0');
    assert.equal(
      settingLimits({ ...setting, exclusiveMinimum: 0, exclusiveMaximum: 10, multipleOf: 5 }),
      'greater than 0, below 10, multiple of 5',
    );
    assert.equal(
      settingLimits({ ...setting, minLength: 2, maxLength: 9 }),
      'at least 2 characters, at most 9 characters',
    );
    // A setting that depends on two settings, one chosen: the open part stays.
    const both = {
      ...setting,
      appliesWhen: { renderer: ['blender'], mode: ['a'] },
      requiredWhen: { renderer: ['blender'], mode: ['a'] },
    };
    assert.deepEqual(settingsFor([both], { renderer: 'blender' }), [
      { ...setting, appliesWhen: { mode: ['a'] }, requiredWhen: { mode: ['a'] } },
    ]);
    assert.deepEqual(settingsFor([both], { renderer: 'builtin' }), []);
  });
});
