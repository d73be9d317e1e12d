import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, existsSync, readdirSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { ApiClient } from '../../client/api-client.js';
import { startTestCluster } from '../../testing/cluster.js';
import { startShamanManager } from '../../testing/farm.js';
import { makeTempDir } from '../../testing/temp.js';
import { runKiln } from '../../testing/cli.js';
import { SECOND } from '../../util/time.js';
import { prepareStorage } from './prepare.js';

/** The blob files under `<shared>/shaman/stored/<2 hex>/<rest>/<size>.blob`, as sorted relative paths. */
function blobsOnDisk(storedDir: string): string[] {
  const out: string[] = [];
  if (!existsSync(storedDir)) return out;
  for (const head of readdirSync(storedDir)) {
    for (const rest of readdirSync(join(storedDir, head)))
      for (const name of readdirSync(join(storedDir, head, rest))) out.push(join(head, rest, name));
  }
  return out.sort();
}

test('kiln shaman gc removes only old blobs no job folder links to; --dry-run removes nothing', async (t) => {
  const cluster = await startTestCluster(t);
  const root = makeTempDir(t);
  const { m, shared } = await startShamanManager(t, cluster, root);
  const submitTree = async (name: string, content: string) => {
    const dir = join(root, name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'scene.txt'), content);
    const storage = await prepareStorage({
      client: new ApiClient({ baseUrl: m.url }),
      input: dir,
      deps: [],
      mode: 'shaman',
      jobName: name,
      home: root,
    });
    const job = await m.api('POST', '/jobs', { name, type: 'echo-sleep', settings: {}, storage });
    assert.equal(job.status, 201);
    return { storage, jobId: job.body.id as string };
  };
  const kept = await submitTree('kept', 'still used');
  const dropped = await submitTree('dropped', 'no longer used');
  // Deleting a job removes its checkout; its blob is then unreferenced.
  await m.api('POST', `/jobs/${dropped.jobId}/status`, { action: 'cancel' });
  assert.equal((await m.api('DELETE', `/jobs/${dropped.jobId}`)).status, 204);
  assert.equal(existsSync(dropped.storage.effectivePath), false);

  const storedDir = join(shared, 'shaman', 'stored');
  const blobsBefore = blobsOnDisk(storedDir);
  // Both blobs aged past the 1 s limit below, instead of waiting for it.
  const past = new Date(Date.now() - 10 * SECOND);
  for (const blob of blobsBefore) utimesSync(join(storedDir, blob), past, past);
  assert.equal(blobsBefore.length, 2, 'one blob per submitted tree');

  const base = ['shaman', 'gc', '--manager', m.url, '--max-age', '1', '--json'];
  const dry = await runKiln([...base, '--dry-run']);
  assert.equal(dry.code, 0, dry.stderr);
  const dryReport = JSON.parse(dry.stdout);
  assert.equal(dryReport.blobsRemoved, 1);
  assert.equal(dryReport.wouldRemove.length, 1);
  const again = JSON.parse((await runKiln([...base, '--dry-run'])).stdout);
  assert.equal(again.blobsRemoved, 1, 'the dry run removed nothing');
  // On disk, not only by gc's own report: every blob is still there after both dry runs.
  assert.deepEqual(blobsOnDisk(storedDir), blobsBefore, 'the dry runs removed no blob file');
  for (const blob of blobsBefore) assert.ok(existsSync(join(storedDir, blob)), `${blob} still exists`);

  const real = JSON.parse((await runKiln(base)).stdout);
  assert.equal(real.blobsRemoved, 1);
  assert.equal(real.blobsReferenced, 1);
  assert.equal(blobsOnDisk(storedDir).length, 1, 'the real run removed the unreferenced blob from disk');
  const after = JSON.parse((await runKiln([...base, '--dry-run'])).stdout);
  assert.equal(after.blobsRemoved, 0);
  assert.equal(after.blobsScanned, 1, 'the referenced blob stays');
  assert.match(
    (await import('node:fs')).readFileSync(join(kept.storage.effectivePath, 'scene.txt'), 'utf8'),
    /still used/,
  );

  // The routes' schemas are in the OpenAPI document: what the report holds, how an upload is sent.
  const doc = (await m.api('GET', '/openapi.json')).body;
  const gcAnswer = doc.paths['/api/v1/shaman/gc'].post.responses['200'].content['application/json'].schema;
  assert.deepEqual(Object.keys(gcAnswer.properties).sort(), Object.keys(real).sort());
  const upload = doc.paths['/api/v1/shaman/files/{sha256}/{size}'].put;
  assert.ok(upload.requestBody.content['application/octet-stream'], 'the upload body is a byte stream');
  assert.deepEqual(
    upload.responses['200'].content['application/json'].schema.properties.result.anyOf.map(
      (option: { enum?: string[]; const?: string }) => option.enum?.[0] ?? option.const,
    ),
    ['stored', 'already-stored', 'deferred'],
  );
});
