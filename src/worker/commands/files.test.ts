import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCopyFile } from './copy-file.js';
import { runEcho } from './echo.js';
import { runMakeDirectory } from './make-directory.js';
import { runMoveDirectory } from './move-directory.js';
import { runSleep } from './sleep.js';
import { recordingContext } from './testing.js';
import { CommandAbortedError, CommandError } from './types.js';

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-files-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('copy-file command', () => {
  it('copies to a new path (making its folders) and into an existing folder, with progress', async (t) => {
    const dir = await tempDir(t);
    const src = join(dir, 'in.bin');
    const content = Buffer.alloc(3 * 1024 * 1024, 7);
    await writeFile(src, content, { mode: 0o640 });
    const { context, record } = recordingContext();
    await runCopyFile({ src, dest: join(dir, 'a', 'b', 'out.bin') }, context);
    assert.deepEqual(await readFile(join(dir, 'a', 'b', 'out.bin')), content);
    assert.equal((await stat(join(dir, 'a', 'b', 'out.bin'))).mode & 0o777, 0o640);
    assert.ok(record.progress.length > 2, 'progress while copying');
    assert.equal(record.progress.at(-1), 1);

    await mkdir(join(dir, 'folder'));
    await runCopyFile({ src, dest: join(dir, 'folder') }, recordingContext().context);
    assert.ok(existsSync(join(dir, 'folder', 'in.bin')));
    assert.deepEqual((await readdir(join(dir, 'a', 'b'))).sort(), ['out.bin'], 'no temporary file left');
  });

  it('fails on a missing source and leaves nothing behind when stopped', async (t) => {
    const dir = await tempDir(t);
    await assert.rejects(
      runCopyFile({ src: join(dir, 'missing'), dest: join(dir, 'x') }, recordingContext().context),
      (error: unknown) => error instanceof CommandError && /does not exist/.test(error.message),
    );
    await assert.rejects(runCopyFile({ src: dir, dest: join(dir, 'x') }, recordingContext().context), /not a file/);

    const src = join(dir, 'big.bin');
    await writeFile(src, Buffer.alloc(64 * 1024 * 1024, 1));
    const { context, controller } = recordingContext({ progress: () => controller.abort() });
    await assert.rejects(runCopyFile({ src, dest: join(dir, 'out', 'big.bin') }, context), CommandAbortedError);
    assert.deepEqual(await readdir(join(dir, 'out')), []);
  });
});

describe('move-directory command', () => {
  it('moves a folder, keeping an existing destination aside', async (t) => {
    const dir = await tempDir(t);
    await mkdir(join(dir, 'render', 'frames'), { recursive: true });
    await writeFile(join(dir, 'render', 'frames', 'f1.png'), 'new');
    await mkdir(join(dir, 'final'));
    await writeFile(join(dir, 'final', 'old.png'), 'old');

    const { context, record } = recordingContext();
    await runMoveDirectory({ src: join(dir, 'render'), dest: join(dir, 'final') }, context);
    assert.ok(!existsSync(join(dir, 'render')));
    assert.equal(await readFile(join(dir, 'final', 'frames', 'f1.png'), 'utf8'), 'new');
    const aside = (await readdir(dir)).filter((name) => name.startsWith('final-'));
    assert.equal(aside.length, 1);
    assert.equal(await readFile(join(dir, aside[0] as string, 'old.png'), 'utf8'), 'old');
    assert.ok(record.logs.some((line) => line.includes('moved the existing')));
  });

  it('across file systems, a source that cannot be removed whole leaves the whole copy in place', async (t) => {
    if (!existsSync('/dev/shm') || process.getuid?.() !== 0) return t.skip('needs /dev/shm and root (chattr)');
    const dir = await tempDir(t);
    const other = await mkdtemp(join('/dev/shm', 'kiln-files-test-'));
    t.after(() => rm(other, { recursive: true, force: true }));
    await mkdir(join(dir, 'render'));
    await writeFile(join(dir, 'render', 'a.png'), 'a');
    await writeFile(join(dir, 'render', 'stuck.png'), 'stuck');
    // An immutable file: even root cannot remove it, so removing the source fails half-way.
    const stuck = join(dir, 'render', 'stuck.png');
    if (spawnSync('chattr', ['+i', stuck]).status !== 0) return t.skip('chattr +i does not work here');
    try {
      const { context, record } = recordingContext();
      await runMoveDirectory({ src: join(dir, 'render'), dest: join(other, 'final') }, context);
      assert.equal(await readFile(join(other, 'final', 'a.png'), 'utf8'), 'a', 'the copy stays');
      assert.equal(await readFile(join(other, 'final', 'stuck.png'), 'utf8'), 'stuck');
      assert.ok(
        record.logs.some((line) => /could not remove/.test(line)),
        record.logs.join('\n'),
      );
    } finally {
      spawnSync('chattr', ['-i', stuck]); // before the temporary folder is removed
    }
  });

  it('fails when the source is missing or not a folder', async (t) => {
    const dir = await tempDir(t);
    await assert.rejects(
      runMoveDirectory({ src: join(dir, 'nope'), dest: join(dir, 'x') }, recordingContext().context),
      /does not exist/,
    );
    await writeFile(join(dir, 'file'), '');
    await assert.rejects(
      runMoveDirectory({ src: join(dir, 'file'), dest: join(dir, 'x') }, recordingContext().context),
      /not a folder/,
    );
  });
});

describe('make-directory command', () => {
  it('makes nested folders, accepts an existing one, refuses a file in the way', async (t) => {
    const dir = await tempDir(t);
    await runMakeDirectory({ path: join(dir, 'a', 'b', 'c') }, recordingContext().context);
    assert.ok((await stat(join(dir, 'a', 'b', 'c'))).isDirectory());
    await runMakeDirectory({ path: join(dir, 'a', 'b', 'c') }, recordingContext().context);
    await writeFile(join(dir, 'file'), '');
    await assert.rejects(
      runMakeDirectory({ path: join(dir, 'file') }, recordingContext().context),
      /a file is in the way/,
    );
    await assert.rejects(
      runMakeDirectory({ path: join(dir, 'file', 'sub') }, recordingContext().context),
      CommandError,
    );
  });
});

describe('echo and sleep commands', () => {
  it('echo logs each line of its message', async () => {
    const { context, record } = recordingContext();
    await runEcho({ message: 'hello\nfarm' }, context);
    assert.deepEqual(record.logs, ['hello', 'farm']);
  });

  it('sleep waits, and an abort ends it at once', async () => {
    const short = recordingContext();
    const started = Date.now();
    await runSleep({ seconds: 0.2 }, short.context);
    assert.ok(Date.now() - started >= 190);
    assert.equal(short.record.progress.at(-1), 1);

    const { context, controller } = recordingContext();
    const sleeping = runSleep({ seconds: 60 }, context);
    const abortedAt = Date.now() + 100;
    setTimeout(() => controller.abort(new Error('stop')), 100);
    await assert.rejects(sleeping, CommandAbortedError);
    assert.ok(Date.now() - abortedAt < 500);
  });
});
