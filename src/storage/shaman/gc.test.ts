import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readdir, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { DAY } from '../../util/time.js';
import { makeTempDir } from '../testing.js';
import { createCheckout, deleteCheckout } from './checkout.js';
import { collectGarbage } from './gc.js';
import { ShamanStore } from './store.js';

const sha = (data: string): string => createHash('sha256').update(data).digest('hex');
const exists = (path: string): Promise<boolean> =>
  stat(path).then(
    () => true,
    () => false,
  );

test('GC removes only old unreferenced blobs and stale uploads; a dry run removes nothing', async (t) => {
  const root = join(await makeTempDir(t), 'shaman');
  const store = new ShamanStore(root, { fsync: false });
  const checkoutRoot = join(root, 'checkout');
  const blob = async (data: string, ageDays: number) => {
    await store.receive(sha(data), data.length, Readable.from([Buffer.from(data)]));
    const when = new Date(Date.now() - ageDays * DAY);
    await utimes(store.blobPath(sha(data), data.length), when, when);
    return { sha256: sha(data), size: data.length, path: `${data}.bin`, file: store.blobPath(sha(data), data.length) };
  };
  const oldUnused = await blob('old-unused', 40);
  const oldUnused2 = await blob('old-unused-2!', 40);
  const newUnused = await blob('new-unused', 1);
  const used = await blob('used', 40);

  await createCheckout(store, checkoutRoot, 'job', [used]);
  // Referenced, then aged again, as if the checkout were made long ago.
  await utimes(used.file, new Date(Date.now() - 40 * DAY), new Date(Date.now() - 40 * DAY));

  // An abandoned upload and a live one.
  const uploads = join(root, 'uploading', 'ab', 'c'.repeat(62));
  await mkdir(uploads, { recursive: true });
  await writeFile(join(uploads, '5-dead.tmp'), 'xxxxx');
  await utimes(join(uploads, '5-dead.tmp'), new Date(Date.now() - 40 * DAY), new Date(Date.now() - 40 * DAY));
  await writeFile(join(uploads, '3-live.tmp'), 'yyy');

  const dry = await collectGarbage(store, checkoutRoot, { maxAgeMs: 30 * DAY, dryRun: true });
  assert.deepEqual(dry.wouldRemove, [oldUnused.file, oldUnused2.file].sort());
  assert.equal(dry.blobsScanned, 4);
  assert.equal(dry.blobsReferenced, 1);
  assert.equal(dry.blobsRemoved, 2);
  assert.equal(dry.bytesRemoved, oldUnused.size + oldUnused2.size);
  assert.equal(dry.uploadsRemoved, 1);
  for (const file of [oldUnused, oldUnused2, newUnused, used])
    assert.ok(await exists(file.file), 'dry run kept everything');
  assert.ok(await exists(join(uploads, '5-dead.tmp')));

  const real = await collectGarbage(store, checkoutRoot, { maxAgeMs: 30 * DAY });
  assert.equal(real.blobsRemoved, 2);
  assert.equal(real.bytesRemoved, oldUnused.size + oldUnused2.size);
  assert.equal(real.uploadsRemoved, 1);
  assert.equal(real.uploadBytesRemoved, 5);
  assert.deepEqual(real.wouldRemove, []);
  assert.equal(await exists(oldUnused.file), false);
  assert.equal(await exists(join(oldUnused.file, '..')), false, 'its emptied folder went too');
  assert.equal(await exists(oldUnused2.file), false);
  assert.ok(await exists(newUnused.file));
  assert.ok(await exists(used.file));
  assert.deepEqual(await readdir(uploads), ['3-live.tmp']);

  // Once the checkout is gone, the old blob is garbage too.
  await deleteCheckout(checkoutRoot, 'job');
  const after = await collectGarbage(store, checkoutRoot, { maxAgeMs: 30 * DAY });
  assert.equal(after.blobsRemoved, 1);
  assert.equal(await exists(used.file), false);
  assert.ok(await exists(newUnused.file));
});

test('GC keeps blobs linked from checkouts still being assembled and refuses a bad age', async (t) => {
  const root = join(await makeTempDir(t), 'shaman');
  const store = new ShamanStore(root, { fsync: false });
  const data = 'in flight';
  await store.receive(sha(data), data.length, Readable.from([Buffer.from(data)]));
  const file = store.blobPath(sha(data), data.length);
  await utimes(file, new Date(Date.now() - 40 * DAY), new Date(Date.now() - 40 * DAY));
  const temp = join(root, 'checkout', '.kiln-tmp', 'abc', 'deeper');
  await mkdir(temp, { recursive: true });
  await symlink(
    `../../../../stored/${sha(data).slice(0, 2)}/${sha(data).slice(2)}/${data.length}.blob`,
    join(temp, 'x'),
  );
  const report = await collectGarbage(store, join(root, 'checkout'), { maxAgeMs: 30 * DAY });
  assert.equal(report.blobsRemoved, 0);
  assert.ok(await exists(file));
  await assert.rejects(collectGarbage(store, join(root, 'checkout'), { maxAgeMs: 0 }), RangeError);
});
