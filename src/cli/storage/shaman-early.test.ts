/**
 * Asking the store early: the contents a tree held at its last hashing (from the hash cache) are
 * asked about while the tree is listed again; missingFiles then asks only about the rest.
 * Against a real manager and real files.
 */
import assert from 'node:assert/strict';
import { mkdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApiClient } from '../../client/api-client.js';
import { startTestCluster } from '../../testing/cluster.js';
import { startShamanManager, type TestManager } from '../../testing/farm.js';
import { freePort, makeTempDir } from '../../testing/temp.js';
import { HashCache, hashFiles, listTree } from '../../storage/index.js';
import { askEarly, missingFiles, uploadFiles } from './shaman-upload.js';

const cleanups: Array<() => unknown> = [];
const t = { after: (fn: () => unknown) => cleanups.push(fn) };
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

let m: TestManager;
let shared = '';
let root = '';
before(async () => {
  root = makeTempDir(t, 'kiln-early-');
  ({ m, shared } = await startShamanManager(t, await startTestCluster(t), root));
});

async function hashTree(tree: string, cache: HashCache) {
  const listing = await listTree(tree);
  const { files } = await hashFiles(listing.files, { baseDir: listing.root, cache });
  return { root: listing.root, files };
}

describe('askEarly and missingFiles', () => {
  it('answers from the last hashing before listing; changed files and removed blobs are still found missing', async () => {
    const storage = new ApiClient({ baseUrl: m.url }).storage;
    const tree = join(root, 'tree');
    for (let i = 0; i < 20; i++) {
      mkdirSync(join(tree, `shot${i % 4}`), { recursive: true });
      writeFileSync(join(tree, `shot${i % 4}`, `f${i}.dat`), `frame ${i % 15}`);
    }
    const cache = HashCache.empty(join(root, 'cache.json'));
    assert.equal((await askEarly(storage, cache, realpathSync(tree))).size, 0, 'nothing cached: nothing to ask');
    const first = await hashTree(tree, cache);
    assert.equal((await missingFiles(storage, first.files)).length, 20);
    await uploadFiles(storage, first.root, first.files);
    assert.equal(cache.contentsUnder(first.root).size, 15, 'one entry per distinct content');
    assert.equal(cache.contentsUnder(join(first.root, 'shot1')).size, 5);

    const everything = await askEarly(storage, cache, first.root);
    assert.equal(everything.size, 15);
    assert.ok([...everything.values()].every((stored) => stored));

    // One file changes after the early question; one blob is removed by hand before it.
    const gone = first.files.find((file) => file.path === 'shot0/f0.dat')!;
    rmSync(join(shared, 'shaman', 'stored', gone.sha256.slice(0, 2), gone.sha256.slice(2), `${gone.size}.blob`));
    const early = await askEarly(storage, cache, first.root);
    writeFileSync(join(tree, 'shot1', 'f1.dat'), 'an edited frame');
    const again = await hashTree(tree, cache);
    const missing = await missingFiles(storage, again.files, early);
    // f0 and f15 share the removed content; f1 has content the store never saw.
    assert.deepEqual(missing.map((file) => file.path).sort(), ['shot0/f0.dat', 'shot1/f1.dat', 'shot3/f15.dat']);
    assert.deepEqual(
      missing.map((file) => file.path).sort(),
      (await missingFiles(storage, again.files)).map((file) => file.path).sort(),
      'the same answer as asking about everything after hashing',
    );
    // An early answer about the same checksum with another size is no answer about this file.
    const edited = again.files.find((file) => file.path === 'shot1/f1.dat')!;
    const otherSize = new Map([[edited.sha256, { size: edited.size + 1, stored: true }]]);
    assert.deepEqual(
      (await missingFiles(storage, [edited], otherSize)).map((file) => file.path),
      ['shot1/f1.dat'],
    );
  });

  it('a manager from before the compact question is asked with the JSON list instead', async () => {
    // In front of the real manager: a relay that answers the compact question like an older manager (404).
    const target = new URL(m.url);
    let refused = 0;
    const relay = createServer((incoming, outgoing) => {
      if (incoming.url === '/api/v1/shaman/missing') {
        refused++;
        incoming.resume();
        outgoing.writeHead(404, { 'content-type': 'application/json' });
        outgoing.end(JSON.stringify({ error: { code: 'no_such_endpoint', message: 'no endpoint' } }));
        return;
      }
      const upstream = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          path: incoming.url,
          method: incoming.method,
          headers: incoming.headers,
        },
        (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        },
      );
      incoming.pipe(upstream);
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise((resolve) => relay.close(resolve)));
    const address = relay.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const older = new ApiClient({ baseUrl: `http://127.0.0.1:${port}` }).storage;

    const tree = join(root, 'tree-older');
    mkdirSync(tree);
    for (let i = 0; i < 6; i++) writeFileSync(join(tree, `f${i}.dat`), `older ${i % 4}`);
    const cache = HashCache.empty(join(root, 'cache-older.json'));
    const { root: real, files } = await hashTree(tree, cache);
    await uploadFiles(older, real, files.slice(0, 2));
    assert.deepEqual(
      (await missingFiles(older, files)).map((file) => file.path),
      ['f2.dat', 'f3.dat'], // f4 and f5 have the contents of f0 and f1
    );
    assert.equal((await askEarly(older, cache, real)).size, 0, 'no early answers from it');
    assert.equal(refused, 2, 'the compact question was asked and refused');
  });

  it('a failed early question is no answer: the files are asked about after hashing', async () => {
    const cache = HashCache.empty(join(root, 'cache-2.json'));
    cache.set(join(root, 'gone', 'a.dat'), 1, 1, 'a'.repeat(64));
    const down = new ApiClient({ baseUrl: `http://127.0.0.1:${await freePort()}` }).storage;
    assert.equal((await askEarly(down, cache, join(root, 'gone'))).size, 0);
  });
});
