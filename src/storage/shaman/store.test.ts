import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { makeTempDir } from '../testing.js';
import { BlobMismatchError, InvalidBlobError } from './errors.js';
import { ShamanStore } from './store.js';

const sha = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/** Every file under a folder, relative. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name).slice(dir.length + 1))
    .sort();
}

/** A stream of `data` in chunks of `chunk` bytes. */
const chunked = (data: Buffer, chunk = 7): Readable =>
  Readable.from(
    (function* () {
      for (let i = 0; i < data.length; i += chunk) yield data.subarray(i, i + chunk);
    })(),
  );

async function makeStore(t: import('node:test').TestContext): Promise<ShamanStore> {
  return new ShamanStore(join(await makeTempDir(t), 'shaman'));
}

describe('ShamanStore', () => {
  test('keeps a good upload at <2 hex>/<rest>/<size>.blob, read-only', async (t) => {
    const store = await makeStore(t);
    const data = Buffer.from('hello, farm\n'.repeat(1000));
    const id = sha(data);
    assert.equal(await store.status(id, data.length), 'unknown');
    assert.equal(await store.receive(id, data.length, chunked(data, 1000)), 'stored');
    const expected = join(store.root, 'stored', id.slice(0, 2), id.slice(2), `${data.length}.blob`);
    assert.equal(store.blobPath(id, data.length), expected);
    assert.deepEqual(await readFile(expected), data);
    assert.equal((await stat(expected)).mode & 0o222, 0);
    assert.equal(await store.status(id, data.length), 'stored');
    assert.deepEqual(await filesUnder(store.uploadingDir), []);
    // Uppercase checksums name the same blob.
    assert.equal(await store.status(id.toUpperCase(), data.length), 'stored');
  });

  test('an empty file is a blob too', async (t) => {
    const store = await makeStore(t);
    assert.equal(await store.receive(sha(''), 0, Readable.from([])), 'stored');
    assert.equal((await stat(store.blobPath(sha(''), 0))).size, 0);
  });

  test('a wrong checksum is refused and nothing is kept', async (t) => {
    const store = await makeStore(t);
    const data = Buffer.from('the real content');
    const wrong = sha('something else');
    await assert.rejects(store.receive(wrong, data.length, chunked(data)), (error: unknown) => {
      assert.ok(error instanceof BlobMismatchError);
      assert.equal(error.code, 'checksum_mismatch');
      assert.equal(error.httpStatus, 417);
      assert.equal(error.received.sha256, sha(data));
      return true;
    });
    assert.deepEqual(await filesUnder(store.storedDir), []);
    assert.deepEqual(await filesUnder(store.uploadingDir), []);
    assert.equal(await store.status(wrong, data.length), 'unknown');
  });

  test('a wrong size, short or long, is refused and nothing is kept', async (t) => {
    const store = await makeStore(t);
    const data = Buffer.alloc(100_000, 7);
    for (const announced of [data.length - 1, data.length + 1]) {
      await assert.rejects(
        store.receive(sha(data), announced, chunked(data, 4096)),
        (error: unknown) => error instanceof BlobMismatchError && error.code === 'size_mismatch',
      );
    }
    assert.deepEqual(await filesUnder(store.storedDir), []);
    assert.deepEqual(await filesUnder(store.uploadingDir), []);
  });

  test('too many bytes stop the reading without destroying the source', async (t) => {
    const store = await makeStore(t);
    const source = new PassThrough();
    source.write(Buffer.alloc(10));
    const receiving = store.receive(sha(Buffer.alloc(5)), 5, source);
    await assert.rejects(receiving, BlobMismatchError);
    assert.equal(source.destroyed, false);
    source.end();
  });

  test('bad ids are refused before anything is read', async (t) => {
    const store = await makeStore(t);
    await assert.rejects(
      store.receive('abc', 1, Readable.from([])),
      (error: unknown) => error instanceof InvalidBlobError && error.httpStatus === 400,
    );
    await assert.rejects(store.receive(sha('x'), -1, Readable.from([])), InvalidBlobError);
    await assert.rejects(
      store.missing([{ sha256: sha('x'), size: 1.5, path: 'a' }]),
      (error: InvalidBlobError) => error.field === 'files[0].size',
    );
  });

  test('an already stored blob is drained and reported', async (t) => {
    const store = await makeStore(t);
    const data = Buffer.from('twice');
    await store.receive(sha(data), data.length, chunked(data));
    const again = chunked(data);
    assert.equal(await store.receive(sha(data), data.length, again), 'already-stored');
    assert.equal(again.readableEnded, true);
  });

  test('missing() lists what is not stored, in order', async (t) => {
    const store = await makeStore(t);
    const a = Buffer.from('a');
    const b = Buffer.from('b');
    await store.receive(sha(a), 1, chunked(a));
    const files = [
      { sha256: sha(a), size: 1, path: 'a.txt' },
      { sha256: sha(b), size: 1, path: 'b.txt' },
      { sha256: sha(a), size: 2, path: 'a-other-size.txt' },
      { sha256: sha(b), size: 1, path: 'b-copy.txt' },
    ];
    assert.deepEqual(
      (await store.missing(files)).map((file) => file.path),
      ['b.txt', 'a-other-size.txt', 'b-copy.txt'],
    );
  });

  test('a second upload of a blob in progress is deferred without being read', async (t) => {
    const store = await makeStore(t);
    const data = Buffer.alloc(3 * 1024 * 1024, 1);
    const first = new PassThrough();
    const firstDone = store.receive(sha(data), data.length, first);
    first.write(data.subarray(0, 1024 * 1024));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(await store.status(sha(data), data.length), 'uploading');

    const second = new PassThrough();
    second.write(data.subarray(0, 10));
    assert.equal(await store.receive(sha(data), data.length, second, { deferIfUploading: true }), 'deferred');
    assert.equal(second.readableLength, 10, 'the deferred body was not read');

    first.end(data.subarray(1024 * 1024));
    assert.equal(await firstDone, 'stored');
    assert.deepEqual(await readFile(store.blobPath(sha(data), data.length)), data);
    assert.equal(await store.status(sha(data), data.length), 'stored');
  });

  test('an upload in progress in another process is seen through its temp file', async (t) => {
    const root = join(await makeTempDir(t), 'shaman');
    const one = new ShamanStore(root);
    const other = new ShamanStore(root);
    const data = Buffer.alloc(50_000, 3);
    const source = new PassThrough();
    const done = one.receive(sha(data), data.length, source);
    source.write(data.subarray(0, 100));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(await other.status(sha(data), data.length), 'uploading');
    assert.equal(await other.receive(sha(data), data.length, chunked(data), { deferIfUploading: true }), 'deferred');
    source.end(data.subarray(100));
    assert.equal(await done, 'stored');
  });

  test('concurrent uploads of one blob all succeed and leave one intact file', async (t) => {
    const store = await makeStore(t);
    const data = Buffer.from(Array.from({ length: 200_000 }, (_, i) => i % 251));
    const results = await Promise.all(
      Array.from({ length: 8 }, () => store.receive(sha(data), data.length, chunked(data, 8192))),
    );
    assert.ok(results.every((result) => result === 'stored' || result === 'already-stored'));
    assert.deepEqual(await readFile(store.blobPath(sha(data), data.length)), data);
    assert.deepEqual(await filesUnder(store.storedDir), [
      join(sha(data).slice(0, 2), sha(data).slice(2), `${data.length}.blob`),
    ]);
    assert.deepEqual(await filesUnder(store.uploadingDir), []);
  });

  test('a source that fails midway leaves nothing behind', async (t) => {
    const store = await makeStore(t);
    const data = Buffer.alloc(1000, 9);
    const failing = new Readable({
      read() {
        this.push(data.subarray(0, 500));
        this.destroy(new Error('client went away'));
      },
    });
    await assert.rejects(store.receive(sha(data), data.length, failing), /client went away/);
    assert.deepEqual(await filesUnder(store.storedDir), []);
    assert.deepEqual(await filesUnder(store.uploadingDir), []);
  });
});
