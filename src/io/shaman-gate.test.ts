/** The manager's Shaman work under I/O priority: a checkout and garbage collection wait out a hold. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { ShamanStore, collectGarbage, createCheckout } from '../storage/index.js';
import { freePort, makeTempDir } from '../testing/temp.js';
import { DAY, waitFor } from '../util/time.js';
import { IoPriority, IoPriorityGate } from './index.js';

const sha = (data: string): string => createHash('sha256').update(data).digest('hex');

test('a Shaman checkout and garbage collection wait while held and finish after the release', async (t) => {
  const root = join(makeTempDir(t, 'kiln-io-shaman-'), 'shaman');
  const store = new ShamanStore(root, { fsync: false });
  const checkoutRoot = join(root, 'checkout');
  const data = 'plate';
  const unused = 'old and unused';
  const old = new Date(Date.now() - 40 * DAY);
  for (const content of [data, unused]) {
    await store.receive(sha(content), content.length, Readable.from([Buffer.from(content)]));
    utimesSync(store.blobPath(sha(content), content.length), old, old);
  }

  const port = await freePort();
  const io = new IoPriority({ port, listen: '127.0.0.1', program: 'playback' });
  t.after(() => io.close());
  const gate = new IoPriorityGate({ targets: [{ host: '127.0.0.1', port }], program: 'kiln manager' });
  t.after(() => gate.close());
  const hold = await io.hold();
  await gate.start();

  const files = [{ sha256: sha(data), size: data.length, path: 'a/plate.exr' }];
  const checkout = createCheckout(store, checkoutRoot, 'job1', files, { gate });
  const gc = collectGarbage(store, checkoutRoot, { maxAgeMs: DAY, gate });
  await sleep(300);
  assert.equal(existsSync(join(checkoutRoot, 'job1')), false, 'no checkout while held');
  assert.equal(existsSync(store.blobPath(sha(unused), unused.length)), true, 'nothing collected while held');
  await hold.release();
  assert.equal((await checkout).files, 1);
  assert.equal(existsSync(join(checkoutRoot, 'job1', 'a', 'plate.exr')), true);
  assert.equal((await gc).blobsRemoved, 1);
  assert.equal(existsSync(store.blobPath(sha(unused), unused.length)), false);
  assert.equal(existsSync(store.blobPath(sha(data), data.length)), true, 'the checked-out one stays');
  await waitFor(() => !gate.paused);
});
