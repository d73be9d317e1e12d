import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { startTestCluster } from '../../testing/cluster.js';
import { startTestManager } from '../../testing/farm.js';
import { makeTempDir } from '../../testing/temp.js';
import { runKiln } from '../../testing/cli.js';
import { sleep } from '../../util/time.js';
import { prepareStorage } from './prepare.js';

test('kiln shaman gc removes only old blobs no job folder links to; --dry-run removes nothing', async (t) => {
  const cluster = await startTestCluster(t);
  const root = makeTempDir(t);
  const shared = join(root, 'shared');
  mkdirSync(shared);
  const m = await startTestManager(t, cluster, { shared_storage_path: shared, shaman: { enabled: true, gc: { period: 3600, max_age: 3600 } } });
  const submitTree = async (name: string, content: string) => {
    const dir = join(root, name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'scene.txt'), content);
    const storage = await prepareStorage({ endpoint: { baseUrl: m.url }, input: dir, deps: [], mode: 'shaman', jobName: name, home: root });
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
  await sleep(1100); // both blobs are now older than the 1 s limit below

  const base = ['shaman', 'gc', '--manager', m.url, '--max-age', '1', '--json'];
  const dry = await runKiln([...base, '--dry-run']);
  assert.equal(dry.code, 0, dry.stderr);
  const dryReport = JSON.parse(dry.stdout);
  assert.equal(dryReport.blobsRemoved, 1);
  assert.equal(dryReport.wouldRemove.length, 1);
  const again = JSON.parse((await runKiln([...base, '--dry-run'])).stdout);
  assert.equal(again.blobsRemoved, 1, 'the dry run removed nothing');

  const real = JSON.parse((await runKiln(base)).stdout);
  assert.equal(real.blobsRemoved, 1);
  assert.equal(real.blobsReferenced, 1);
  const after = JSON.parse((await runKiln([...base, '--dry-run'])).stdout);
  assert.equal(after.blobsRemoved, 0);
  assert.equal(after.blobsScanned, 1, 'the referenced blob stays');
  assert.match((await import('node:fs')).readFileSync(join(kept.storage.effectivePath, 'scene.txt'), 'utf8'), /still used/);
});
