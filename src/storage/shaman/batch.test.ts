import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { makeTempDir } from '../testing.js';
import { blobKeyOfPath } from './blob.js';
import { BlobMismatchError } from './errors.js';
import { ShamanStore } from './store.js';

const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
const blobOf = (data: Buffer, path: string) => ({ sha256: sha(data), size: data.length, path, bytes: data });

/** Every file under a folder, absolute. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath ?? entry.path, entry.name));
}

/** Every visible blob's bytes hash to its name and have its size; returns how many there are. */
async function assertEveryBlobTrue(store: ShamanStore): Promise<number> {
  const blobs = (await filesUnder(store.storedDir)).filter((path) => path.endsWith('.blob'));
  for (const path of blobs) {
    const key = blobKeyOfPath(path);
    assert.ok(key, `${path} is not named like a blob`);
    const data = await readFile(path);
    assert.equal(`${sha(data)}/${data.length}`, key, `${path} holds other content than its name says`);
  }
  return blobs.length;
}

describe('ShamanStore batch uploads', () => {
  test('stores every file of a batch once, read-only, and leaves no temp file', async (t) => {
    const store = new ShamanStore(join(await makeTempDir(t), 'shaman'));
    const files = Array.from({ length: 50 }, (_, i) => blobOf(randomBytes(100 + i), `shot/f${i}.dat`));
    const duplicate = { ...files[0], path: 'shot/copy-of-f0.dat' } as (typeof files)[0];
    const empty = blobOf(Buffer.alloc(0), 'empty.dat');
    const result = await store.receiveBatch([...files, duplicate, empty]);
    assert.deepEqual(result, {
      stored: 51,
      alreadyStored: 1,
      bytesStored: files.reduce((sum, f) => sum + f.size, 0),
    });
    assert.equal(await assertEveryBlobTrue(store), 51);
    assert.equal((await stat(store.blobPath(empty.sha256, 0))).mode & 0o777, 0o444);
    assert.deepEqual(await filesUnder(store.uploadingDir), []);
    // Again: everything is there already.
    assert.deepEqual(await store.receiveBatch(files), { stored: 0, alreadyStored: 50, bytesStored: 0 });
  });

  test('a wrong hash refuses the whole batch, naming the file, and keeps nothing', async (t) => {
    const store = new ShamanStore(join(await makeTempDir(t), 'shaman'));
    const good = blobOf(Buffer.from('good content'), 'a/good.dat');
    const bad = { ...blobOf(Buffer.from('announced'), 'b/bad.dat'), bytes: Buffer.from('something else') };
    bad.size = bad.bytes.length;
    await assert.rejects(store.receiveBatch([good, bad]), (error: unknown) => {
      assert.ok(error instanceof BlobMismatchError);
      assert.equal(error.kind, 'checksum_mismatch');
      assert.equal(error.field, 'files[1]');
      assert.match(error.message, /files\[1\] \(b\/bad\.dat\)/);
      return true;
    });
    const short = { ...blobOf(Buffer.from('twelve bytes'), 'c/short.dat'), size: 13 };
    await assert.rejects(store.receiveBatch([good, short]), /files\[1\] \(c\/short\.dat\).*13 bytes, received 12/);
    assert.deepEqual(await filesUnder(store.root), []);
  });

  test('a failure half-way keeps the blobs already moved (each whole), removes every temp, and a retry finishes', async (t) => {
    const store = new ShamanStore(join(await makeTempDir(t), 'shaman'));
    const files = Array.from({ length: 20 }, (_, i) => blobOf(randomBytes(64), `f${i}`));
    // A file where one blob's folder must go: its rename cannot happen.
    const blocked = files[10] as (typeof files)[0];
    const folder = join(store.storedDir, blocked.sha256.slice(0, 2), blocked.sha256.slice(2));
    mkdirSync(join(folder, '..'), { recursive: true });
    writeFileSync(folder, 'in the way');
    await assert.rejects(store.receiveBatch(files));
    assert.deepEqual(await filesUnder(store.uploadingDir), []);
    const stored = await assertEveryBlobTrue(store);
    assert.ok(stored < 20, `${stored} stored although one could not be`);
    assert.equal(await store.status(blocked.sha256, blocked.size), 'unknown');
    // The obstacle gone, the same batch stores what is left.
    await import('node:fs/promises').then((fs) => fs.rm(folder));
    const retry = await store.receiveBatch(files);
    assert.equal(retry.stored + retry.alreadyStored, 20);
    assert.equal(retry.stored, 20 - stored);
    assert.equal(await assertEveryBlobTrue(store), 20);
  });

  test('a process killed mid-batch never leaves a visible blob whose content differs from its name', async (t) => {
    const root = join(await makeTempDir(t), 'shaman');
    const storeModule = fileURLToPath(new URL('./store.js', import.meta.url));
    // The child stores batches of 200 random files (durably) until it is killed.
    const script = `
      const { createHash, randomBytes } = await import('node:crypto');
      const { ShamanStore } = await import(${JSON.stringify(storeModule)});
      const store = new ShamanStore(${JSON.stringify(root)});
      for (let n = 0; ; n++) {
        const files = Array.from({ length: 200 }, () => {
          const bytes = randomBytes(1 + Math.floor(Math.random() * 20000));
          return { sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length, bytes };
        });
        await store.receiveBatch(files);
        if (n === 0) process.send('stored one batch');
      }`;
    for (let round = 0; round < 4; round++) {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      });
      t.after(() => void child.kill('SIGKILL'));
      await new Promise((resolve, reject) => {
        child.once('message', resolve);
        child.once('exit', (code) => reject(new Error(`the batch writer exited (${code}) before it stored a batch`)));
      });
      await sleep(round * 37); // killed at different points of a batch
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    const store = new ShamanStore(root);
    assert.ok((await assertEveryBlobTrue(store)) >= 4 * 200);
  });
});
