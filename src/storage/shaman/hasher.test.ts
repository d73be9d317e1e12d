import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { UserError } from '../../util/errors.js';
import { makeTempDir } from '../testing.js';
import { HashCache, hashFiles, type HashProgress } from './hasher.js';

test('hashFiles equals crypto.createHash on the same files, chunk edges included', async (t) => {
  const dir = await makeTempDir(t);
  const chunk = 64 * 1024;
  const sizes = [0, 1, chunk - 1, chunk, chunk + 1, 3 * chunk, 3 * chunk + 17, 1_000_003];
  const paths: string[] = [];
  for (const [i, size] of sizes.entries()) {
    const path = join(dir, `f${i}`);
    await writeFile(path, randomBytes(size));
    paths.push(path);
  }
  const total = sizes.reduce((a, b) => a + b, 0);
  const withSizes = paths.map((path, i) => ({ path, size: sizes[i] as number, mtimeMs: 0 }));
  const runs = {
    'worker threads': () =>
      hashFiles(paths, { chunkBytes: chunk, workers: 3, inlineBytes: 0, onProgress: (p) => progress.push(p) }),
    'calling thread': () => hashFiles(withSizes, { chunkBytes: chunk, onProgress: (p) => progress.push(p) }),
  };
  let progress: HashProgress[] = [];
  for (const [how, run] of Object.entries(runs)) {
    progress = [];
    const report = await run();
    for (const [i, file] of report.files.entries()) {
      const data = await readFile(paths[i] as string);
      assert.equal(file.path, paths[i]);
      assert.equal(file.size, data.length);
      assert.equal(
        file.sha256,
        createHash('sha256').update(data).digest('hex'),
        `${how}: file of ${data.length} bytes`,
      );
    }
    assert.equal(report.bytesHashed, total, how);
    assert.equal(report.filesHashed, sizes.length, how);
    assert.equal(progress.at(-1)?.filesDone, sizes.length, how);
    assert.equal(progress.at(-1)?.bytesHashed, total, how);
  }
});

test('the cache avoids re-hashing unchanged files and survives a reload', async (t) => {
  const dir = await makeTempDir(t);
  const names = Array.from({ length: 20 }, (_, i) => `file-${i}.bin`);
  for (const name of names) await writeFile(join(dir, name), randomBytes(10_000));
  const cacheFile = join(dir, 'cache', 'hashes.json');

  const cache = await HashCache.load(cacheFile);
  const first = await hashFiles(names, { baseDir: dir, cache });
  assert.equal(first.bytesHashed, 200_000);
  assert.equal(first.filesFromCache, 0);
  await cache.save();

  const reloaded = await HashCache.load(cacheFile);
  assert.equal(reloaded.size, 20);
  const second = await hashFiles(names, { baseDir: dir, cache: reloaded });
  assert.equal(second.bytesHashed, 0);
  assert.equal(second.filesFromCache, 20);
  assert.deepEqual(second.files, first.files);

  // One file changes (content and mtime): only it is hashed again.
  await writeFile(join(dir, 'file-3.bin'), 'changed');
  await utimes(join(dir, 'file-3.bin'), new Date(), new Date(Date.now() + 5000));
  const third = await hashFiles(names, { baseDir: dir, cache: reloaded });
  assert.equal(third.bytesHashed, 7);
  assert.equal(third.filesHashed, 1);
  assert.equal(third.files[3]?.sha256, createHash('sha256').update('changed').digest('hex'));
});

test('a damaged cache file is an empty cache; an unreadable file is a UserError', async (t) => {
  const dir = await makeTempDir(t);
  await writeFile(join(dir, 'cache.json'), '{ not json');
  const cache = await HashCache.load(join(dir, 'cache.json'));
  assert.equal(cache.size, 0);
  await assert.rejects(
    hashFiles([join(dir, 'missing.bin')]),
    (error: unknown) => error instanceof UserError && /missing\.bin/.test(error.message),
  );
  await assert.rejects(hashFiles([join(dir, 'missing.bin')], { cache }), UserError);
});
