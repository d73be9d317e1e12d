// The whole Shaman round trip through the library, as the client and the manager will do it:
// list, hash (with the cache), ask what is missing, upload that, check out; then again unchanged.
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeTempDir } from '../testing.js';
import { createCheckout } from './checkout.js';
import { HashCache, hashFiles } from './hasher.js';
import { ShamanStore } from './store.js';
import { listTree } from './tree.js';

test('a 1,000-file tree submitted twice: the second round uploads nothing, each content is stored once', async (t) => {
  const base = await makeTempDir(t);
  const project = join(base, 'project');
  const distinct = 700;
  for (let i = 0; i < 1000; i++) {
    const folder = join(project, `shot${i % 10}`, `layer${i % 7}`);
    await mkdir(folder, { recursive: true });
    // Files 700..999 repeat the contents of files 0..299.
    await writeFile(join(folder, `frame-${i}.exr`), `content ${i % distinct} `.repeat((i % distinct) + 1));
  }
  const store = new ShamanStore(join(base, 'shared', 'shaman'), { fsync: false });
  const checkoutRoot = join(store.root, 'checkout');
  const cache = await HashCache.load(join(base, 'client', 'hash-cache.json'));

  const submit = async (jobName: string) => {
    const listing = await listTree(project);
    const hashed = await hashFiles(listing.files, { baseDir: listing.root, cache });
    await cache.save();
    const missing = await store.missing(hashed.files);
    let uploadedBytes = 0;
    const sent = new Set<string>();
    for (const file of missing) {
      if (sent.has(file.sha256)) continue; // same content twice in one submission goes once
      sent.add(file.sha256);
      const result = await store.receive(file.sha256, file.size, createReadStream(join(listing.root, file.path)));
      assert.equal(result, 'stored');
      uploadedBytes += file.size;
    }
    const checkout = await createCheckout(store, checkoutRoot, jobName, hashed.files);
    return { hashed, missing, uploadedBytes, checkout };
  };

  const first = await submit('job');
  assert.equal(first.hashed.files.length, 1000);
  assert.equal(first.missing.length, 1000);
  assert.equal(first.checkout.blobs, distinct);

  const second = await submit('job');
  assert.equal(second.hashed.bytesHashed, 0, 'the cache spared re-hashing');
  assert.equal(second.hashed.filesFromCache, 1000);
  assert.deepEqual(second.missing, []);
  assert.equal(second.uploadedBytes, 0);
  assert.equal(second.checkout.path, 'job-1');

  let blobs = 0;
  for (const head of await readdir(store.storedDir)) {
    for (const rest of await readdir(join(store.storedDir, head))) blobs += (await readdir(join(store.storedDir, head, rest))).length;
  }
  assert.equal(blobs, distinct, 'each distinct content stored once');

  for (const i of [0, 1, 699, 700, 999]) {
    const path = join(`shot${i % 10}`, `layer${i % 7}`, `frame-${i}.exr`);
    assert.deepEqual(await readFile(join(checkoutRoot, 'job-1', path)), await readFile(join(project, path)));
  }
});
