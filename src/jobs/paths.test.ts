import type { UserError } from '../util/errors.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAbsolutePath, joinPath, parentPath, resolveJobPath, sanitiseFileName } from './paths.js';

test('joinPath keeps the separator style of the folder', () => {
  const cases: Array<[string, string[], string]> = [
    ['/out', ['frames'], '/out/frames'],
    ['/out/', ['frames', 'a.png'], '/out/frames/a.png'],
    ['/', ['frames'], '/frames'],
    ['C:\\renders\\shot', ['frames'], 'C:\\renders\\shot\\frames'],
    ['{farm}/shot', ['frames'], '{farm}/shot/frames'],
    ['rel', ['x'], 'rel/x'],
  ];
  for (const [dir, parts, expected] of cases) assert.equal(joinPath(dir, ...parts), expected);
});

test('isAbsolutePath knows every platform and two-way variables', () => {
  for (const path of ['/x', 'C:\\x', 'c:/x', '\\\\server\\x', '{farm}/x'])
    assert.equal(isAbsolutePath(path), true, path);
  for (const path of ['x', './x', '../x', 'x/y']) assert.equal(isAbsolutePath(path), false, path);
});

test('resolveJobPath takes relative paths inside the job storage', () => {
  const job = { storage: { effectivePath: '/farm/jobs/j1' } };
  assert.equal(resolveJobPath(job, 'scene.blend', 'settings.file'), '/farm/jobs/j1/scene.blend');
  assert.equal(resolveJobPath(job, './scene.blend', 'settings.file'), '/farm/jobs/j1/scene.blend');
  assert.equal(resolveJobPath(job, '/abs/scene.blend', 'settings.file'), '/abs/scene.blend');
  assert.equal(resolveJobPath({}, '/abs/scene.blend', 'settings.file'), '/abs/scene.blend');
  assert.equal(resolveJobPath({}, '{farm}/scene.blend', 'settings.file'), '{farm}/scene.blend');
  assert.throws(
    () => resolveJobPath({}, 'scene.blend', 'settings.file'),
    (error: UserError) => error.field === 'settings.file' && /relative path/.test(error.message),
  );
});

test('parentPath', () => {
  assert.equal(parentPath('/out/a.mp4'), '/out');
  assert.equal(parentPath('/a.mp4'), '/');
  assert.equal(parentPath('C:\\a.mp4'), 'C:\\');
  assert.equal(parentPath('a.mp4'), undefined);
});

test('sanitiseFileName', () => {
  const cases: Array<[string, string]> = [
    ['Shot 010 / comp v2', 'Shot_010_comp_v2'],
    ['café', 'cafe'],
    ['..hidden', 'hidden'],
    ['***', 'output'],
    ['nul', 'nul_'],
    ['a'.repeat(150), 'a'.repeat(100)],
  ];
  for (const [text, expected] of cases) assert.equal(sanitiseFileName(text), expected, text);
});
