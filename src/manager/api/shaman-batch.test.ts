import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiClient } from '../../client/api-client.js';
import { ApiError } from '../../client/errors.js';
import { startTestCluster } from '../../testing/cluster.js';
import { startTestManager, type TestManager } from '../../testing/farm.js';
import { makeTempDir } from '../../testing/temp.js';
import { BATCH_CONTENT_TYPE, BATCH_LIMITS } from '../../storage/index.js';

let m: TestManager;
let shared = '';
const cleanups: Array<() => unknown> = [];
const t = { after: (fn: () => unknown) => cleanups.push(fn) };
before(async () => {
  const cluster = await startTestCluster(t);
  shared = join(makeTempDir(t, 'kiln-batch-'), 'farm');
  mkdirSync(shared);
  m = await startTestManager(t, cluster, {
    shared_storage_path: shared,
    shaman: { enabled: true, gc: { period: 3600, max_age: 3600 } },
  });
});
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
const fileOf = (data: Buffer, path: string) => ({ sha256: sha(data), size: data.length, path, bytes: data });
const storedBlobs = (): string[] =>
  (readdirSync(join(shared, 'shaman', 'stored'), { recursive: true }) as string[]).filter((p) => p.endsWith('.blob'));

/** POST /shaman/batch with a hand-made body. */
async function postBatch(manifest: unknown, bytes: Buffer): Promise<{ status: number; body: any }> {
  const response = await fetch(`${m.url}/api/v1/shaman/batch`, {
    method: 'POST',
    headers: { 'content-type': BATCH_CONTENT_TYPE },
    body: Buffer.concat([Buffer.from(`${JSON.stringify(manifest)}\n`), bytes]),
  });
  return { status: response.status, body: await response.json() };
}

describe('POST /shaman/batch', () => {
  it('stores many small files in one request; the store then has them and a checkout links them', async () => {
    const client = new ApiClient({ baseUrl: m.url });
    const files = Array.from({ length: 300 }, (_, i) => fileOf(randomBytes(10 + i * 3), `shot/f${i}.dat`));
    const answer = await client.storage.uploadBatch(files);
    assert.deepEqual(answer, { stored: 300, alreadyStored: 0, bytesStored: files.reduce((s, f) => s + f.size, 0) });
    const ids = files.map(({ sha256, size, path }) => ({ sha256, size, path }));
    assert.deepEqual((await client.storage.missing(ids)).missing, []);
    const again = await client.storage.uploadBatch(files.slice(0, 10));
    assert.deepEqual(again, { stored: 0, alreadyStored: 10, bytesStored: 0 });
    const checkout = await client.storage.checkout('batch-job', ids);
    assert.equal(checkout.files, 300);
    const linked = readFileSync(join(shared, 'jobs', 'batch-job', 'shot', 'f7.dat'));
    assert.equal(sha(linked), files[7]?.sha256);
  });

  it('refuses a batch holding a wrong hash with a 417 naming the file, and keeps none of it', async () => {
    const before = storedBlobs().length;
    const client = new ApiClient({ baseUrl: m.url });
    const good = fileOf(randomBytes(50), 'ok/one.dat');
    const bad = { ...fileOf(randomBytes(40), 'ok/two.dat'), bytes: randomBytes(40) };
    await assert.rejects(client.storage.uploadBatch([good, bad]), (error: unknown) => {
      assert.ok(error instanceof ApiError, String(error));
      assert.equal(error.status, 417);
      assert.equal(error.code, 'checksum_mismatch');
      assert.equal(error.field, 'files[1]');
      assert.match(error.message, /ok\/two\.dat/);
      return true;
    });
    assert.equal(storedBlobs().length, before);
  });

  it('refuses malformed and oversized batches, naming the part at fault', async () => {
    const data = randomBytes(64);
    const id = { sha256: sha(data), size: 64 };
    const cases: Array<[unknown, Buffer, number, string]> = [
      [{ files: [{ ...id, size: 65 }] }, data, 400, 'body'],
      [{ files: [{ ...id, sha256: 'nothex' }] }, data, 400, 'files[0].sha256'],
      [{ files: [] }, Buffer.alloc(0), 400, 'manifest.files'],
      [{ files: [id], extra: 1 }, data, 400, 'manifest.extra'],
      [{ files: Array.from({ length: BATCH_LIMITS.maxFiles + 1 }, () => id) }, Buffer.alloc(0), 400, 'manifest.files'],
      [{ files: [{ ...id, size: BATCH_LIMITS.maxBytes + 1 }] }, data, 413, 'manifest.files'],
    ];
    for (const [manifest, bytes, status, field] of cases) {
      const answer = await postBatch(manifest, bytes);
      assert.equal(answer.status, status, JSON.stringify(answer.body));
      assert.equal(answer.body.error.field, field, JSON.stringify(answer.body));
    }
    const noManifest = await fetch(`${m.url}/api/v1/shaman/batch`, {
      method: 'POST',
      headers: { 'content-type': BATCH_CONTENT_TYPE },
      body: data,
    });
    assert.equal(noManifest.status, 400);
    // A body past the limit is cut off by the server.
    const huge = Buffer.alloc(BATCH_LIMITS.maxBytes + BATCH_LIMITS.maxManifestBytes + 1);
    const tooLarge = await postBatch({ files: [id] }, huge);
    assert.equal(tooLarge.status, 413);
  });
});
