import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, readdirSync, statSync, existsSync, readFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { useFileCluster } from '../../testing/cluster.js';
import { startShamanManager } from '../../testing/farm.js';
import { makeTempDir } from '../../testing/temp.js';
import { runKiln } from '../../testing/cli.js';
import { startKiln, type KilnProcess } from '../../testing/processes.js';
import { waitFor } from '../../util/time.js';

/** One PostgreSQL for the file; each test gets its own database and manager. */
const fileCluster = useFileCluster({ before, after });

/** Every blob under stored/ is whole: its size is its name and its content hashes to its path. */
function storedBlobs(storedDir: string): Array<{ sha: string; size: number }> {
  const blobs: Array<{ sha: string; size: number }> = [];
  if (!existsSync(storedDir)) return blobs;
  for (const head of readdirSync(storedDir)) {
    for (const rest of readdirSync(join(storedDir, head))) {
      for (const name of readdirSync(join(storedDir, head, rest))) {
        const path = join(storedDir, head, rest, name);
        const size = Number(name.replace('.blob', ''));
        assert.equal(statSync(path).size, size, `whole blob ${path}`);
        assert.equal(
          createHash('sha256').update(readFileSync(path)).digest('hex'),
          head + rest,
          `verified blob ${path}`,
        );
        blobs.push({ sha: head + rest, size });
      }
    }
  }
  return blobs;
}

describe('kiln submit --input', () => {
  it('reports the storage mode, files and bytes as JSON; a UNC input is refused with the reason', async (t) => {
    const root = makeTempDir(t);
    const { m, shared } = await startShamanManager(t, fileCluster(), root);
    const project = join(root, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'scene.txt'), 'hello');
    const base = ['submit', 'echo-sleep', '--manager', m.url, '--home', join(root, 'home')];
    const run = await runKiln([...base, '--input', project, '--json']);
    assert.equal(run.code, 0, run.stderr);
    const job = JSON.parse(run.stdout);
    assert.equal(job.storage.mode, 'shaman');
    assert.equal(job.storage.files, 1);
    assert.equal(job.storage.bytesHashed, 5);
    assert.equal(job.storage.bytesUploaded, 5);
    assert.ok(job.storage.effectivePath.startsWith(join(shared, 'jobs')));

    // The refused submits below create no job: the manager's job count is the same after.
    const jobCount = async (): Promise<number> => {
      const listed = await m.api('GET', '/jobs');
      assert.equal(listed.status, 200, JSON.stringify(listed.body));
      return listed.body.total;
    };
    const jobsBefore = await jobCount();
    assert.equal(jobsBefore, 1, 'the JSON submit made one job');
    const unc = await runKiln([...base, '--input', '\\\\nas\\projects\\shot']);
    assert.equal(unc.code, 1);
    assert.notEqual(unc.code, 0);
    assert.match(unc.stderr.trim(), /^kiln: .*UNC path.*map a drive letter/);
    assert.equal(await jobCount(), jobsBefore, 'the UNC submit created no job');
    const direct = await runKiln([...base, '--input', project, '--storage', 'direct']);
    assert.equal(direct.code, 1);
    assert.notEqual(direct.code, 0);
    assert.match(direct.stderr, /needs the input on shared storage/);
    assert.equal(await jobCount(), jobsBefore, 'the direct submit created no job');
    const bad = await runKiln([...base, '--input', project, '--storage', 'ftp']);
    assert.notEqual(bad.code, 0, `--storage ftp must fail; stdout: ${bad.stdout}`);
    assert.match(bad.stderr, /--storage must be one of auto, direct, copy, shaman/);
    assert.equal(await jobCount(), jobsBefore, 'the --storage ftp submit created no job');
  });

  it('a submit killed mid-upload, run again, uploads only the rest; stored/ never holds a partial blob', async (t) => {
    // Registered first so it runs first: the submit is killed (if still running) before the manager and the temp dirs go.
    let first: KilnProcess | undefined;
    t.after(() => first?.kill('SIGKILL'));
    const root = makeTempDir(t);
    const { m, shared } = await startShamanManager(t, fileCluster(), root);
    const tree = join(root, 'plates');
    mkdirSync(tree);
    const count = 60;
    const size = 1024 * 1024;
    for (let i = 0; i < count; i++) writeFileSync(join(tree, `plate-${i}.exr`), randomBytes(size));
    const storedDir = join(shared, 'shaman', 'stored');
    const args = [
      'submit',
      'echo-sleep',
      '--manager',
      m.url,
      '--home',
      join(root, 'home'),
      '--input',
      tree,
      '--storage',
      'shaman',
      '--json',
    ];

    first = startKiln(args);
    await waitFor(() => existsSync(storedDir) && readdirSync(storedDir).length >= 5, {
      intervalMs: 5,
      timeoutMs: 60_000,
      what: 'some uploads',
    });
    await first.kill('SIGKILL');
    // An upload whose bytes had all left the client may still be finishing on the manager.
    let settled = -1;
    await waitFor(
      async () => {
        const now = storedBlobs(storedDir).length;
        const same = now === settled;
        settled = now;
        await new Promise((resolve) => setTimeout(resolve, 300));
        return same;
      },
      { timeoutMs: 10_000, what: 'the manager to finish what it received' },
    );
    const before = storedBlobs(storedDir);
    assert.ok(before.length < count, `killed mid-upload (${before.length} of ${count} stored)`);

    const again = await runKiln(args);
    assert.equal(again.code, 0, again.stderr);
    const job = JSON.parse(again.stdout);
    const after = storedBlobs(storedDir);
    assert.equal(after.length, count);
    // Only what was not stored yet went over the wire (an upload cut off by the kill is sent again).
    assert.equal(job.storage.bytesUploaded, (count - before.length) * size);
  });
});
