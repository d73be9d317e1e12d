import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, readFileSync, statSync, existsSync, readdirSync, lstatSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import pino from 'pino';
import { ApiClient } from '../../client/api-client.js';
import { useFileCluster } from '../../testing/cluster.js';
import { startTestManager, type TestManager } from '../../testing/farm.js';
import { makeTempDir } from '../../testing/temp.js';
import { waitFor } from '../../util/time.js';
import { runWorker } from '../../worker/main.js';
import { prepareStorage } from './prepare.js';

/** One PostgreSQL for the file; each test gets its own database and manager. */
const fileCluster = useFileCluster({ before, after });
type T = { after: (fn: () => unknown) => void };

/** A manager with shared storage and one real worker (in this process), stopped after the test. */
async function farmWithStorage(t: T, shaman = false) {
  const root = makeTempDir(t);
  const shared = join(root, 'shared');
  mkdirSync(shared);
  const m = await startTestManager(t, fileCluster(), {
    shared_storage_path: shared,
    shaman: { enabled: shaman, gc: { period: 3600, max_age: 3600 } },
  });
  return { root, shared, m };
}

function startWorker(t: T, m: TestManager, root: string): void {
  const stop = new AbortController();
  const done = runWorker({
    home: join(root, 'worker'),
    managerUrl: m.url,
    secret: m.farmSecret,
    name: 'storage-worker',
    signal: stop.signal,
    handleSignals: false,
    logger: pino({ level: 'silent' }),
    env: { ...process.env, KILN_SELF_DISCOVERY: 'off' },
  });
  t.after(async () => {
    stop.abort();
    await done;
  });
}

/** A job that copies `file` (relative to the job folder) to `out`, and records the inode it read. */
async function readerJob(m: TestManager, storage: object, file: string, out: string): Promise<string> {
  const script = `const fs=require('fs');fs.writeFileSync(${JSON.stringify(out)}, fs.readFileSync(${JSON.stringify(file)},'utf8')+'\\n'+fs.statSync(${JSON.stringify(file)}).ino)`;
  const response = await m.api('POST', '/jobs', {
    name: 'reader',
    type: 'command',
    settings: { argv: [process.execPath, '-e', script], cwd: '.' },
    storage,
  });
  assert.equal(response.status, 201, JSON.stringify(response.body));
  return response.body.id;
}

const managerClient = (m: TestManager) => new ApiClient({ baseUrl: m.url });

/** Every non-folder entry under `dir` (files and symlinks; links not followed), as sorted relative paths. */
function filesUnder(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...filesUnder(dir, relative));
    else out.push(relative);
  }
  return out.sort();
}

const finished = (m: TestManager, id: string) =>
  waitFor(
    async () => {
      const job = (await m.api('GET', `/jobs/${id}`)).body;
      return ['completed', 'failed', 'canceled'].includes(job.status) && job;
    },
    { timeoutMs: 30_000, what: 'the job to finish' },
  );

describe('shared storage, three ways', () => {
  it('direct: an input under the shared path is used in place (same inode, nothing copied)', async (t) => {
    const { root, shared, m } = await farmWithStorage(t);
    const project = join(shared, 'projects', 'shot-010');
    mkdirSync(project, { recursive: true });
    writeFileSync(join(project, 'scene.txt'), 'in place');
    const storage = await prepareStorage({
      client: managerClient(m),
      input: project,
      deps: [],
      mode: 'auto',
      jobName: 'direct',
      home: root,
    });
    assert.equal(storage.mode, 'direct');
    assert.equal(storage.effectivePath, project);
    startWorker(t, m, root);
    const out = join(root, 'out.txt');
    const job = await finished(m, await readerJob(m, storage, 'scene.txt', out));
    assert.equal(job.status, 'completed');
    const [content, inode] = readFileSync(out, 'utf8').split('\n');
    assert.equal(content, 'in place');
    assert.equal(Number(inode), statSync(join(project, 'scene.txt')).ino);
    assert.equal(existsSync(join(shared, 'jobs')), false, 'nothing copied');
    // Deleting a direct job never touches its files.
    assert.equal((await m.api('DELETE', `/jobs/${job.id}`)).status, 204);
    assert.ok(existsSync(join(project, 'scene.txt')));
  });

  it('copy: the input and its dependencies are copied; later edits do not change what the job renders', async (t) => {
    const { root, shared, m } = await farmWithStorage(t);
    const work = join(root, 'workstation');
    mkdirSync(join(work, 'shot'), { recursive: true });
    mkdirSync(join(work, 'textures'));
    writeFileSync(join(work, 'shot', 'scene.txt'), 'version 1');
    writeFileSync(join(work, 'textures', 'wood.txt'), 'grain');
    const storage = await prepareStorage({
      client: managerClient(m),
      input: join(work, 'shot', 'scene.txt'),
      deps: [join(work, 'textures')],
      mode: 'auto',
      jobName: 'copy me',
      home: root,
    });
    assert.equal(storage.mode, 'copy');
    assert.equal(storage.files, 2);
    assert.match(
      storage.effectivePath,
      new RegExp(`^${shared}/jobs/\\d{4}-\\d\\d-\\d\\dT\\d\\d-\\d\\d-\\d\\d-copy-me$`),
    );
    assert.equal(
      readFileSync(join(storage.effectivePath, 'textures', 'wood.txt'), 'utf8'),
      'grain',
      'relative layout kept',
    );
    writeFileSync(join(work, 'shot', 'scene.txt'), 'version 2, edited after submitting');
    startWorker(t, m, root);
    const out = join(root, 'out.txt');
    const job = await finished(m, await readerJob(m, storage, 'shot/scene.txt', out));
    assert.equal(job.status, 'completed');
    assert.equal(readFileSync(out, 'utf8').split('\n')[0], 'version 1');
    assert.equal(readdirSync(join(shared, 'jobs')).filter((n) => n.startsWith('.')).length, 0, 'no temp folder left');
    // Deleting the job removes its copy.
    assert.equal((await m.api('DELETE', `/jobs/${job.id}`)).status, 204);
    assert.equal(existsSync(storage.effectivePath), false);
  });

  it('asking for a mode that cannot work, or a UNC input, is a clear error', async (t) => {
    const { root, m } = await farmWithStorage(t);
    const outside = join(root, 'outside');
    mkdirSync(outside);
    await assert.rejects(
      prepareStorage({ client: managerClient(m), input: outside, deps: [], mode: 'direct', jobName: 'x', home: root }),
      /needs the input on shared storage/,
    );
    await assert.rejects(
      prepareStorage({ client: managerClient(m), input: outside, deps: [], mode: 'shaman', jobName: 'x', home: root }),
      /Shaman is not enabled/,
    );
    await assert.rejects(
      prepareStorage({
        client: managerClient(m),
        input: '\\\\server\\share\\shot',
        deps: [],
        mode: 'auto',
        jobName: 'x',
        home: root,
      }),
      /map a drive letter/,
    );
  });

  it('Shaman: a 1,000-file tree submitted twice uploads nothing the second time; each content is stored once', async (t) => {
    const { root, shared, m } = await farmWithStorage(t, true);
    const tree = join(root, 'tree');
    const distinct = 600;
    for (let i = 0; i < 1000; i++) {
      const dir = join(tree, `seq${i % 10}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `f${i}.bin`), `payload ${i % distinct}`.repeat(50));
    }
    const first = await prepareStorage({
      client: managerClient(m),
      input: tree,
      deps: [],
      mode: 'auto',
      jobName: 'tree',
      home: root,
    });
    assert.equal(first.mode, 'shaman');
    assert.equal(first.files, 1000);
    assert.ok(first.bytesUploaded! > 0);
    const second = await prepareStorage({
      client: managerClient(m),
      input: tree,
      deps: [],
      mode: 'auto',
      jobName: 'tree',
      home: root,
    });
    assert.equal(second.bytesUploaded, 0);
    assert.equal(second.bytesHashed, 0, 'unchanged files are not hashed again');
    assert.notEqual(second.checkout, first.checkout);
    for (const name of ['seq0/f0.bin', 'seq3/f613.bin', 'seq9/f999.bin']) {
      const a = readFileSync(join(first.effectivePath, name));
      assert.deepEqual(readFileSync(join(second.effectivePath, name)), a);
      assert.deepEqual(a, readFileSync(join(tree, name)));
      assert.ok(lstatSync(join(first.effectivePath, name)).isSymbolicLink());
    }
    // Every file of both checkouts: the same list as the source, and the same bytes.
    const sourceFiles = filesUnder(tree);
    assert.equal(sourceFiles.length, 1000);
    assert.deepEqual(filesUnder(first.effectivePath), sourceFiles, 'first checkout lists the source files');
    assert.deepEqual(filesUnder(second.effectivePath), sourceFiles, 'second checkout lists the source files');
    assert.deepEqual(
      filesUnder(second.effectivePath),
      filesUnder(first.effectivePath),
      'both checkouts list the same files',
    );
    for (const name of sourceFiles) {
      const source = readFileSync(join(tree, name));
      for (const checkout of [first.effectivePath, second.effectivePath]) {
        assert.ok(lstatSync(join(checkout, name)).isSymbolicLink(), `${checkout}/${name} is a link into the store`);
        assert.deepEqual(readFileSync(join(checkout, name)), source, `${checkout}/${name} has the source content`);
      }
    }
    let blobs = 0;
    const stored = join(shared, 'shaman', 'stored');
    for (const a of readdirSync(stored))
      for (const b of readdirSync(join(stored, a))) blobs += readdirSync(join(stored, a, b)).length;
    assert.equal(blobs, distinct);
  });

  it('Shaman over HTTP: 417 on a wrong hash or size, 424 for missing files, 400 for bad paths, a suffix for an existing one', async (t) => {
    const { shared, m } = await farmWithStorage(t, true);
    const data = Buffer.from('frame data');
    const sha = createHash('sha256').update(data).digest('hex');
    const put = (hash: string, size: number, body: Buffer) =>
      fetch(`${m.url}/api/v1/shaman/files/${hash}/${size}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream' },
        body,
      });
    const storedDir = join(shared, 'shaman', 'stored');
    const countStored = () => (existsSync(storedDir) ? readdirSync(storedDir).length : 0);
    assert.equal((await put('0'.repeat(64), data.length, data)).status, 417);
    assert.equal((await put(sha, data.length + 5, data)).status, 417);
    assert.equal(countStored(), 0, 'nothing under stored/');
    assert.equal((await put(sha, data.length, data)).status, 200);
    const file = { sha256: sha, size: data.length, path: 'a/frame.exr' };
    const missing = { sha256: 'f'.repeat(64), size: 3, path: 'b/other.exr' };
    const create = (checkoutPath: string, files: object[]) =>
      m.api('POST', '/shaman/checkout/create', { checkoutPath, files });
    const refused = await create('job-missing', [file, missing]);
    assert.equal(refused.status, 424);
    assert.equal(existsSync(join(shared, 'jobs', 'job-missing')), false);
    const checkoutRoot = join(shared, 'jobs');
    const entries = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort() : []);
    const [rootBefore, sharedBefore, absBefore] = [entries(checkoutRoot), entries(shared), existsSync('/abs/path')];
    assert.equal((await create('../escape', [file])).status, 400);
    assert.equal((await create('/abs/path', [file])).status, 400);
    assert.equal((await create('ok', [{ ...file, path: '../../etc/x' }])).status, 400);
    // Refused paths leave nothing on disk: not in the checkout root, not beside it, not at the absolute path.
    assert.deepEqual(entries(checkoutRoot), rootBefore, 'no new entry in the checkout root');
    assert.deepEqual(entries(shared), sharedBefore, 'nothing created beside the checkout root (../escape)');
    assert.equal(existsSync('/abs/path'), absBefore, 'nothing created at the absolute path');
    assert.equal((await create('shot', [file])).body.checkoutPath, 'shot');
    assert.equal((await create('shot', [file])).body.checkoutPath, 'shot-1');
    assert.equal(readFileSync(join(shared, 'jobs', 'shot-1', 'a', 'frame.exr'), 'utf8'), 'frame data');
  });
});
