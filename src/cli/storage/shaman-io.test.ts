/**
 * Submissions under I/O priority, against a real manager: a Shaman upload sends nothing while a
 * foreground application holds (counted on the wire by a relay in front of the manager), then
 * completes; a copy per job waits the same way.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiClient } from '../../client/api-client.js';
import { IoPriority, queryIoStatus } from '../../io/index.js';
import { useFileCluster } from '../../testing/cluster.js';
import { startShamanManager, startTestManager } from '../../testing/farm.js';
import { freePort, makeTempDir } from '../../testing/temp.js';
import { waitFor } from '../../util/time.js';
import { prepareStorage } from './prepare.js';

const fileCluster = useFileCluster({ before, after });
type T = { after: (fn: () => unknown) => void };

/** A TCP relay to `port` that counts the bytes clients send through it (and tells `onBytes`). */
async function countingRelay(
  t: T,
  port: number,
  onBytes: (sent: number) => void = () => undefined,
): Promise<{ url: string; sent: () => number }> {
  let sent = 0;
  const server: Server = createServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port });
    client.on('data', (chunk: Buffer) => {
      sent += chunk.length;
      onBytes(sent);
    });
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    server.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  const address = server.address();
  return { url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, sent: () => sent };
}

/** A home whose network.cfg puts I/O priority on a free port, and a foreground program holding there. */
async function heldHome(t: T, root: string): Promise<{ home: string; port: number; io: IoPriority }> {
  const home = join(root, 'client-home');
  mkdirSync(home);
  const port = await freePort();
  writeFileSync(join(home, 'network.cfg'), `[IO Priority]\nPort = ${port}\nListen = 127.0.0.1\n`);
  const io = new IoPriority({ port, listen: '127.0.0.1', program: 'review session' });
  t.after(() => io.close());
  return { home, port, io };
}

async function untilWaiting(port: number): Promise<void> {
  await waitFor(
    async () => {
      const status = await queryIoStatus('127.0.0.1', port);
      return status.listening && status.clients.waiting === 1;
    },
    { what: 'the submission to wait on the hold' },
  );
}

describe('submissions under I/O priority', () => {
  it('a Shaman upload sends nothing while held, then completes', async (t) => {
    const root = makeTempDir(t);
    const { m, shared } = await startShamanManager(t, fileCluster(), root);
    const relay = await countingRelay(t, Number(new URL(m.url).port));
    const input = join(root, 'project');
    mkdirSync(input);
    const size = 8 * 1024 * 1024;
    writeFileSync(join(input, 'plate.exr'), Buffer.alloc(size, 3));
    const { home, port, io } = await heldHome(t, root);
    const hold = await io.hold();

    const client = new ApiClient({ baseUrl: relay.url });
    const submitting = prepareStorage({ client, input, deps: [], mode: 'shaman', jobName: 'held', home });
    await untilWaiting(port);
    const before = relay.sent();
    const samples: number[] = [];
    for (let index = 0; index < 20; index++) {
      samples.push(relay.sent());
      await sleep(25);
    }
    assert.ok(before < 64 * 1024, `only the small requests before the upload went out (${before} bytes)`);
    assert.deepEqual(new Set(samples), new Set([before]), 'nothing sent while held');
    const uploading = join(shared, 'shaman', 'uploading');
    assert.ok(!existsSync(uploading) || readdirSync(uploading).length === 0, 'no upload begun on the manager');

    await hold.release();
    const storage = await submitting;
    assert.equal(storage.mode, 'shaman');
    assert.equal(storage.bytesUploaded, size);
    assert.ok(relay.sent() - before >= size, 'the content went after the release');
    const checkout = join(shared, 'jobs', ...(storage.checkout ?? '').split('/'), 'plate.exr');
    assert.deepEqual(readFileSync(checkout), readFileSync(join(input, 'plate.exr')));
  });

  it('a copy per job writes nothing while held, then completes', async (t) => {
    const root = makeTempDir(t);
    const shared = join(root, 'shared');
    mkdirSync(shared);
    const m = await startTestManager(t, fileCluster(), { shared_storage_path: shared });
    const input = join(root, 'project');
    mkdirSync(input);
    writeFileSync(join(input, 'scene.blend'), Buffer.alloc(4 * 1024 * 1024, 9));
    const { home, port, io } = await heldHome(t, root);
    const hold = await io.hold();
    const client = new ApiClient({ baseUrl: m.url });
    const submitting = prepareStorage({ client, input, deps: [], mode: 'copy', jobName: 'held', home });
    await untilWaiting(port);
    const jobs = join(shared, 'jobs');
    const written = (): number =>
      existsSync(jobs)
        ? readdirSync(jobs, { recursive: true, withFileTypes: true })
            .filter((entry) => entry.isFile())
            .reduce((sum, entry) => sum + readFileSync(join(entry.parentPath, entry.name)).length, 0)
        : 0;
    assert.equal(written(), 0);
    await hold.release();
    const storage = await submitting;
    assert.equal(storage.mode, 'copy');
    assert.equal(written(), 4 * 1024 * 1024);
  });

  it('a hold that begins mid-upload and outlasts the silence limit: the file is sent again after it', async (t) => {
    const root = makeTempDir(t);
    const { m, shared } = await startShamanManager(t, fileCluster(), root);
    const { home, io } = await heldHome(t, root);
    let hold: Promise<{ release(): Promise<void> }> | undefined;
    // The hold starts once 4 MiB of the upload went by.
    const relay = await countingRelay(t, Number(new URL(m.url).port), (sent) => {
      if (sent > 4 * 1024 * 1024) hold ??= io.hold();
    });
    const input = join(root, 'project');
    mkdirSync(input);
    const size = 96 * 1024 * 1024;
    writeFileSync(join(input, 'plate.exr'), Buffer.alloc(size, 5));
    const client = new ApiClient({ baseUrl: relay.url, timeoutMs: 1000 });
    const submitting = prepareStorage({ client, input, deps: [], mode: 'shaman', jobName: 'mid', home });
    await waitFor(() => hold, { what: 'the hold to begin mid-upload' });
    await sleep(2000); // past the 1 s silence limit
    await (await hold)?.release();
    const storage = await submitting;
    assert.equal(storage.bytesUploaded, size);
    assert.ok(relay.sent() > size, `part of it went twice (${relay.sent()} bytes for ${size})`);
    const checkout = join(shared, 'jobs', ...(storage.checkout ?? '').split('/'), 'plate.exr');
    assert.equal(readFileSync(checkout).length, size);
  });
});
