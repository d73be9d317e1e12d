import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, readlink, stat, utimes, writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, test, type TestContext } from 'node:test';
import { makeTempDir } from '../testing.js';
import { CHECKOUT_TEMP_DIR, createCheckout, deleteCheckout } from './checkout.js';
import { InvalidCheckoutPathError, MissingBlobsError } from './errors.js';
import { ShamanStore } from './store.js';

const sha = (data: string): string => createHash('sha256').update(data).digest('hex');

async function setUp(t: TestContext, contents: Record<string, string>) {
  const root = join(await makeTempDir(t), 'shaman');
  const store = new ShamanStore(root, { fsync: false });
  const checkoutRoot = join(root, 'checkout');
  const files = Object.entries(contents).map(([path, data]) => ({
    path,
    sha256: sha(data),
    size: Buffer.byteLength(data),
  }));
  for (const [i, file] of files.entries()) {
    await store.receive(file.sha256, file.size, Readable.from([Buffer.from(Object.values(contents)[i] as string)]));
  }
  return { store, checkoutRoot, files };
}

const contents = {
  'scene.blend': 'blend data',
  'textures/wood.png': 'png data',
  'textures/deep/er/metal.png': 'metal data',
  'copy-of-scene.blend': 'blend data',
};

describe('createCheckout', () => {
  test('makes relative symlinks that resolve to identical content', async (t) => {
    const { store, checkoutRoot, files } = await setUp(t, contents);
    const result = await createCheckout(store, checkoutRoot, 'jobs/job-1', files);
    assert.deepEqual(result, { path: 'jobs/job-1', files: 4, blobs: 3 });
    for (const [path, data] of Object.entries(contents)) {
      const link = join(checkoutRoot, 'jobs/job-1', path);
      assert.ok((await lstat(link)).isSymbolicLink(), path);
      const target = await readlink(link);
      assert.ok(!isAbsolute(target), `${path} -> ${target} is relative`);
      assert.match(target, /^(\.\.\/)+stored\//);
      assert.equal(await readFile(link, 'utf8'), data);
    }
    assert.deepEqual(await readdir(join(checkoutRoot, CHECKOUT_TEMP_DIR)), [], 'no temp folder is left');
  });

  test('touches every blob it uses', async (t) => {
    const { store, checkoutRoot, files } = await setUp(t, contents);
    const old = new Date(Date.now() - 100 * 24 * 3600 * 1000);
    for (const file of files) await utimes(store.blobPath(file.sha256, file.size), old, old);
    await createCheckout(store, checkoutRoot, 'job', files);
    for (const file of files) {
      const age = Date.now() - (await stat(store.blobPath(file.sha256, file.size))).mtimeMs;
      assert.ok(age < 60_000, `${file.path} was touched`);
    }
  });

  test('a missing blob is an error listing it, and nothing is created', async (t) => {
    const { store, checkoutRoot, files } = await setUp(t, contents);
    const absent = { path: 'absent.exr', sha256: sha('never uploaded'), size: 14 };
    await assert.rejects(createCheckout(store, checkoutRoot, 'job', [...files, absent]), (error: unknown) => {
      assert.ok(error instanceof MissingBlobsError);
      assert.equal(error.httpStatus, 424);
      assert.deepEqual(error.missing, [absent]);
      return true;
    });
    const left = await readdir(checkoutRoot).catch(() => []);
    assert.deepEqual(left, []);
  });

  test('refuses paths that are absolute or climb out, for the checkout and for files', async (t) => {
    const { store, checkoutRoot, files } = await setUp(t, contents);
    const bad = [
      '../escape',
      'a/../../b',
      '/etc/x',
      'C:\\x',
      'C:/x',
      'a\\..\\b',
      '..',
      '.',
      '',
      'a//b',
      './a',
      'x\u0000y',
      '.kiln-tmp/x',
    ];
    for (const path of bad) {
      await assert.rejects(
        createCheckout(store, checkoutRoot, path, files),
        (error: unknown) => error instanceof InvalidCheckoutPathError && error.httpStatus === 400,
        JSON.stringify(path),
      );
    }
    for (const path of ['../x', '/abs', 'a/../../x', 'a\\b', '']) {
      const file = { ...(files[0] as (typeof files)[0]), path };
      await assert.rejects(
        createCheckout(store, checkoutRoot, 'job', [file]),
        (error: unknown) => error instanceof InvalidCheckoutPathError && error.field === 'files[0].path',
        JSON.stringify(path),
      );
    }
    await assert.rejects(
      createCheckout(store, checkoutRoot, 'job', [
        { ...(files[0] as (typeof files)[0]), path: 'a' },
        { ...(files[1] as (typeof files)[0]), path: 'a/b' },
      ]),
      InvalidCheckoutPathError,
    );
    assert.deepEqual(await readdir(checkoutRoot).catch(() => []), []);
  });

  test('an existing folder gets a suffix', async (t) => {
    const { store, checkoutRoot, files } = await setUp(t, contents);
    assert.equal((await createCheckout(store, checkoutRoot, 'shots/sh010', files)).path, 'shots/sh010');
    assert.equal((await createCheckout(store, checkoutRoot, 'shots/sh010', files)).path, 'shots/sh010-1');
    await mkdir(join(checkoutRoot, 'shots', 'sh010-2'));
    await writeFile(join(checkoutRoot, 'shots', 'sh010-3'), 'a file in the way');
    const third = await createCheckout(store, checkoutRoot, 'shots/sh010/', files);
    assert.equal(third.path, 'shots/sh010-4');
    assert.equal(await readFile(join(checkoutRoot, third.path, 'textures/deep/er/metal.png'), 'utf8'), 'metal data');
  });

  test('a checkout inside another checkout is refused; beside it is fine', async (t) => {
    const { store, checkoutRoot, files } = await setUp(t, contents);
    await createCheckout(store, checkoutRoot, 'shots/sh010', files);
    for (const inner of ['shots/sh010/inner', 'shots/sh010/textures/inner', 'shots/sh010/textures/new/inner']) {
      await assert.rejects(
        createCheckout(store, checkoutRoot, inner, files),
        (error: unknown) => {
          assert.ok(error instanceof InvalidCheckoutPathError, String(error));
          assert.equal(error.field, 'checkoutPath');
          assert.match(error.message, /inside the checkout "shots\/sh010(\/textures)?"/);
          return true;
        },
        inner,
      );
    }
    assert.equal((await createCheckout(store, checkoutRoot, 'shots/sh020', files)).path, 'shots/sh020');
  });

  test('an empty file list makes an empty folder, even in a new store', async (t) => {
    const root = join(await makeTempDir(t), 'shaman');
    const result = await createCheckout(new ShamanStore(root), join(root, 'checkout'), 'empty', []);
    assert.deepEqual(result, { path: 'empty', files: 0, blobs: 0 });
    assert.deepEqual(await readdir(join(root, 'checkout', 'empty')), []);
  });

  test('concurrent checkouts of one path get distinct folders', async (t) => {
    const { store, checkoutRoot, files } = await setUp(t, contents);
    const results = await Promise.all(
      Array.from({ length: 5 }, () => createCheckout(store, checkoutRoot, 'same', files)),
    );
    assert.deepEqual(results.map((result) => result.path).sort(), ['same', 'same-1', 'same-2', 'same-3', 'same-4']);
  });
});

describe('deleteCheckout', () => {
  test('removes the checkout and empty parents, keeps the blobs', async (t) => {
    const { store, checkoutRoot, files } = await setUp(t, contents);
    await createCheckout(store, checkoutRoot, 'proj/job', files);
    assert.equal(await deleteCheckout(checkoutRoot, 'proj/job'), true);
    assert.deepEqual(
      (await readdir(checkoutRoot)).filter((name) => name !== CHECKOUT_TEMP_DIR),
      [],
    );
    for (const file of files) await stat(store.blobPath(file.sha256, file.size));
    assert.equal(await deleteCheckout(checkoutRoot, 'proj/job'), false);
  });

  test('validates the path', async (t) => {
    const { checkoutRoot } = await setUp(t, contents);
    for (const path of ['..', '../shaman', '/tmp', '.kiln-tmp']) {
      await assert.rejects(deleteCheckout(checkoutRoot, path), InvalidCheckoutPathError, path);
    }
  });
});
