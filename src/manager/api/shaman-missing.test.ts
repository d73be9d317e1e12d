import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApiClient } from '../../client/api-client.js';
import { startTestCluster } from '../../testing/cluster.js';
import { startShamanManager, type TestManager } from '../../testing/farm.js';
import { makeTempDir } from '../../testing/temp.js';
import { BLOB_IDS_CONTENT_TYPE, encodeBlobIds } from '../../storage/index.js';

const cleanups: Array<() => unknown> = [];
const t = { after: (fn: () => unknown) => cleanups.push(fn) };
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
const fileOf = (data: Buffer, path: string) => ({ sha256: sha(data), size: data.length, path, bytes: data });

let m: TestManager;
let shared = '';
before(async () => {
  const cluster = await startTestCluster(t);
  ({ m, shared } = await startShamanManager(t, cluster, makeTempDir(t, 'kiln-missing-')));
});

/** POST /shaman/missing with a hand-made body. */
async function postIds(body: Buffer | string, contentType = BLOB_IDS_CONTENT_TYPE) {
  const response = await fetch(`${m.url}/api/v1/shaman/missing`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body,
  });
  return { status: response.status, body: (await response.json()) as { error: { field?: string } } };
}

describe('POST /shaman/missing (ids as bytes)', () => {
  it('answers the positions of the contents the store lacks, asking the disk every time', async () => {
    const storage = new ApiClient({ baseUrl: m.url }).storage;
    const stored = Array.from({ length: 5 }, (_, i) => fileOf(randomBytes(100 + i), `s${i}.dat`));
    await storage.uploadBatch(stored);
    const absent = fileOf(randomBytes(30), 'absent.dat');
    const ids = [stored[0], absent, stored[1], stored[2], absent, stored[3], stored[4]].map((file) => ({
      sha256: file!.sha256,
      size: file!.size,
    }));
    assert.deepEqual((await storage.missingBlobs(ids)).missing, [1, 4]);
    // The same checksum with another size is another content.
    assert.deepEqual(
      (await storage.missingBlobs([{ sha256: stored[0]!.sha256, size: stored[0]!.size + 1 }])).missing,
      [0],
    );
    // A blob removed by hand (or by garbage collection) is missing at once: nothing is remembered.
    const first = stored[0]!;
    rmSync(join(shared, 'shaman', 'stored', first.sha256.slice(0, 2), first.sha256.slice(2), `${first.size}.blob`));
    assert.deepEqual((await storage.missingBlobs(ids)).missing, [0, 1, 4]);
    // The JSON list of files answers the same.
    const json = await storage.missing(ids.map((id, i) => ({ ...id, path: `f${i}` })));
    assert.deepEqual(
      json.missing.map((file) => file.path),
      ['f0', 'f1', 'f4'],
    );
    assert.deepEqual((await storage.missingBlobs([])).missing, []);
  });

  it('refuses bodies that are not whole ids, sizes beyond 2^53 - 1 and other content types, naming the field', async () => {
    const one = encodeBlobIds([{ sha256: sha(Buffer.from('x')), size: 1 }]);
    const short = await postIds(one.subarray(0, 39));
    assert.equal(short.status, 400);
    assert.equal(short.body.error.field, 'body');
    const huge = Buffer.from(one);
    huge.writeUInt32BE(0xffffffff, 32);
    const tooLarge = await postIds(huge);
    assert.equal(tooLarge.status, 400);
    assert.equal(tooLarge.body.error.field, 'ids[0].size');
    const json = await postIds(JSON.stringify({ files: [] }), 'application/json');
    assert.equal(json.status, 415);
    assert.equal(json.body.error.field, 'content-type');
  });

  it('is in the OpenAPI document with its byte format', async () => {
    const doc = (await m.api('GET', '/openapi.json')).body;
    const route = doc.paths['/api/v1/shaman/missing'].post;
    assert.match(route.requestBody.content[BLOB_IDS_CONTENT_TYPE].schema.description, /40 bytes/);
    assert.equal(route.responses['200'].content['application/json'].schema.properties.missing.type, 'array');
  });
});
