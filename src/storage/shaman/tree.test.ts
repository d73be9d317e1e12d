import assert from 'node:assert/strict';
import { mkdir, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { UserError } from '../../util/errors.js';
import { makeTempDir } from '../testing.js';
import { listTree } from './tree.js';

test('listTree lists regular files with sizes and mtimes, posix paths, sorted', async (t) => {
  const base = await makeTempDir(t);
  const dir = join(base, 'proj');
  await mkdir(join(dir, 'tex', 'wood'), { recursive: true });
  await writeFile(join(dir, 'scene.blend'), 'abc');
  await writeFile(join(dir, 'tex', 'wood', 'oak.png'), '12345');
  await writeFile(join(dir, 'tex', 'a.png'), '');
  const listing = await listTree(dir);
  assert.deepEqual(
    listing.files.map((file) => [file.path, file.size]),
    [
      ['scene.blend', 3],
      ['tex/a.png', 0],
      ['tex/wood/oak.png', 5],
    ],
  );
  assert.equal(listing.files[0]?.mtimeMs, (await stat(join(dir, 'scene.blend'))).mtimeMs);
  assert.deepEqual(listing.skipped, []);
});

test('listTree follows symlinks inside the tree only', async (t) => {
  const base = await makeTempDir(t);
  const dir = join(base, 'proj');
  await mkdir(join(dir, 'real'), { recursive: true });
  await mkdir(join(base, 'outside'));
  await writeFile(join(base, 'outside', 'secret.txt'), 'no');
  await writeFile(join(dir, 'real', 'f.txt'), 'yes');
  await symlink(join(base, 'outside'), join(dir, 'out-dir'));
  await symlink(join(base, 'outside', 'secret.txt'), join(dir, 'out-file'));
  await symlink('real', join(dir, 'alias'));
  await symlink('real/f.txt', join(dir, 'f-link.txt'));
  await symlink('..', join(dir, 'real', 'loop'));
  await symlink('nowhere', join(dir, 'broken'));
  const listing = await listTree(dir);
  assert.deepEqual(
    listing.files.map((file) => file.path),
    ['alias/f.txt', 'f-link.txt', 'real/f.txt'],
  );
  assert.deepEqual(listing.skipped, [
    { path: 'alias/loop', reason: 'symlink loop' },
    { path: 'broken', reason: 'broken symlink' },
    { path: 'out-dir', reason: 'symlink points outside the tree' },
    { path: 'out-file', reason: 'symlink points outside the tree' },
    { path: 'real/loop', reason: 'symlink loop' },
  ]);
});

test('listTree honours ignore and refuses a missing folder', async (t) => {
  const base = await makeTempDir(t);
  await mkdir(join(base, '.git'));
  await writeFile(join(base, '.git', 'HEAD'), 'x');
  await writeFile(join(base, 'keep'), 'x');
  const listing = await listTree(base, { ignore: (path) => path === '.git' });
  assert.deepEqual(
    listing.files.map((file) => file.path),
    ['keep'],
  );
  await assert.rejects(listTree(join(base, 'nope')), UserError);
  await assert.rejects(listTree(join(base, 'keep')), UserError);
});

test('listTree is fast for 10,000 files', async (t) => {
  const base = await makeTempDir(t);
  for (let d = 0; d < 100; d++) {
    await mkdir(join(base, `d${d}`));
    await Promise.all(Array.from({ length: 100 }, (_, f) => writeFile(join(base, `d${d}`, `f${f}.txt`), `${d}/${f}`)));
  }
  const started = performance.now();
  const listing = await listTree(base);
  const elapsed = performance.now() - started;
  assert.equal(listing.files.length, 10_000);
  t.diagnostic(`listTree of 10,000 files: ${elapsed.toFixed(0)} ms`);
  assert.ok(elapsed < 5_000, `took ${elapsed} ms`);
});
