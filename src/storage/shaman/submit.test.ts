// The whole Shaman round trip through the library, as the client and the manager will do it:
// list, hash (with the cache), ask what is missing, upload that, check out; then again unchanged.
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { lstat, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeTempDir } from '../testing.js';
import { createCheckout } from './checkout.js';
import { HashCache, hashFiles } from './hasher.js';
import { ShamanStore } from './store.js';
import { listTree } from './tree.js';

/** Every non-folder entry under `dir` (files and symlinks; links not followed), as sorted relative paths. */
async function filesUnder(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const relative = prefix ? join(prefix, entry.name) : entry.name;
    if (entry.isDirectory()) out.push(...(await filesUnder(dir, relative)));
    else out.push(relative);
  }
  return out.sort();
}

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
    for (const rest of await readdir(join(store.storedDir, head)))
      blobs += (await readdir(join(store.storedDir, head, rest))).length;
  }
  assert.equal(blobs, distinct, 'each distinct content stored once');

  for (const i of [0, 1, 699, 700, 999]) {
    const path = join(`shot${i % 10}`, `layer${i % 7}`, `frame-${i}.exr`);
    assert.deepEqual(await readFile(join(checkoutRoot, 'job-1', path)), await readFile(join(project, path)));
  }

  // Both checkouts resolve to identical content: every file, the same list as the source and as each other.
  assert.equal(first.checkout.path, 'job');
  const checkouts = [join(checkoutRoot, first.checkout.path), join(checkoutRoot, second.checkout.path)];
  const sourceFiles = await filesUnder(project);
  assert.equal(sourceFiles.length, 1000);
  const [firstFiles, secondFiles] = [await filesUnder(checkouts[0]!), await filesUnder(checkouts[1]!)];
  assert.deepEqual(firstFiles, sourceFiles, 'the first checkout lists the source files');
  assert.deepEqual(secondFiles, sourceFiles, 'the second checkout lists the source files');
  assert.deepEqual(secondFiles, firstFiles, 'both checkouts list the same files');
  for (const path of sourceFiles) {
    const source = await readFile(join(project, path));
    const [a, b] = [await readFile(join(checkouts[0]!, path)), await readFile(join(checkouts[1]!, path))];
    assert.ok((await lstat(join(checkouts[0]!, path))).isSymbolicLink(), `job/${path} is a link into the store`);
    assert.ok((await lstat(join(checkouts[1]!, path))).isSymbolicLink(), `job-1/${path} is a link into the store`);
    assert.deepEqual(a, source, `job/${path} has the source content`);
    assert.deepEqual(b, source, `job-1/${path} has the source content`);
    assert.deepEqual(a, b, `job/${path} and job-1/${path} are the same`);
  }
});
