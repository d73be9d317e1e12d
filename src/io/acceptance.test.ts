/**
 * I/O priority with real processes and real files: a 1 GiB background copy held and released,
 * a holder killed outright, and the `kiln io` commands.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, openSync, closeSync, writeSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it, type TestContext } from 'node:test';
import { runKiln } from '../testing/cli.js';
import { startKiln } from '../testing/processes.js';
import { freePort, makeTempDir } from '../testing/temp.js';
import { SECOND, waitFor } from '../util/time.js';
import { IoPriority, IoPriorityGate, queryIoStatus } from './index.js';

const COPY_CHILD = fileURLToPath(new URL('../testing/io-copy-child.js', import.meta.url));
const GIB = 1024 * 1024 * 1024;

/** A file of `bytes` real (not sparse) data: each MiB different. */
function writeDataFile(path: string, bytes: number): void {
  const block = randomBytes(1024 * 1024);
  const fd = openSync(path, 'w');
  try {
    for (let offset = 0; offset < bytes; offset += block.length) {
      block.writeUInt32LE(offset / block.length, 0);
      writeSync(fd, block);
    }
  } finally {
    closeSync(fd);
  }
}

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function sizeOf(path: string): number {
  return existsSync(path) ? statSync(path).size : 0;
}

function startCopy(t: TestContext, src: string, dest: string, port: number) {
  const child = spawn(process.execPath, [COPY_CHILD, src, dest, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.after(() => {
    child.kill('SIGKILL');
    return exited;
  });
  return { output: () => output, exited };
}

describe('I/O priority with real processes', () => {
  it('a 1 GiB background copy writes nothing while held, resumes on release, and copies every byte', async (t) => {
    const dir = makeTempDir(t, 'kiln-io-copy-');
    const src = join(dir, 'source.bin');
    const dest = join(dir, 'copy.bin');
    writeDataFile(src, GIB);
    const port = await freePort();
    const io = new IoPriority({ port, listen: '127.0.0.1', program: 'playback' });
    t.after(() => io.close());
    await io.open();

    const copy = startCopy(t, src, dest, port);
    await waitFor(() => sizeOf(dest) >= 16 * 1024 * 1024 || copy.output().includes('copied'), {
      timeoutMs: 30 * SECOND,
      intervalMs: 2,
      what: 'the copy to start writing',
    });
    const hold = await io.hold();
    // The copy reached a chunk boundary and waits there (its gate tells the listener).
    await waitFor(
      async () => {
        const status = await queryIoStatus('127.0.0.1', port);
        return status.listening && status.clients.waiting === 1;
      },
      { what: 'the copy to wait on the hold' },
    );
    const samples: number[] = [];
    for (let index = 0; index < 40; index++) {
      samples.push(sizeOf(dest));
      await sleep(25);
    }
    const held = samples[0] ?? 0;
    assert.ok(held > 0 && held < GIB, `held part way: ${held} bytes`);
    assert.deepEqual(new Set(samples), new Set([held]), 'not one byte written while held');
    await hold.release();
    assert.equal(await copy.exited, 0, copy.output());
    assert.match(copy.output(), new RegExp(`copied ${GIB}`));
    assert.equal(await sha256(dest), await sha256(src), 'the copy is identical');
  });

  it('a holder killed with SIGKILL while holding: background work resumes within a second', async (t) => {
    const port = await freePort();
    const holder = startKiln(['io', 'hold', '--port', String(port)]);
    t.after(() => holder.kill('SIGKILL'));
    const gate = new IoPriorityGate({ targets: [{ host: '127.0.0.1', port }], program: 'test', minDelayMs: 10 });
    t.after(() => gate.close());
    await waitFor(() => holder.output().includes('holding'), { what: 'the hold' });
    await gate.start();
    assert.equal(gate.paused, true);
    const waiting = gate.ready();
    const killedAt = performance.now();
    await holder.kill('SIGKILL');
    await waiting;
    const resumedAfter = performance.now() - killedAt;
    t.diagnostic(`resumed ${resumedAfter.toFixed(0)} ms after the kill`);
    // The cause, not a speed: a dropped connection resumes at once, while the only other way out, the
    // silence limit (3 s), would come later. The bound leaves room for a loaded machine.
    assert.ok(resumedAfter < 2500, `resumed ${resumedAfter.toFixed(0)} ms after the kill: by the drop, not silence`);
  });

  it('two overlapping holds by two kiln io hold processes: paused until both end, whichever ends first', async (t) => {
    const port = await freePort();
    const first = startKiln(['io', 'hold', '--port', String(port)]);
    t.after(() => first.kill('SIGKILL'));
    await waitFor(() => first.output().includes('holding on port'), { what: 'the first hold' });
    const second = startKiln(['io', 'hold', '--port', String(port), '--seconds', '60']);
    t.after(() => second.kill('SIGKILL'));
    await waitFor(() => second.output().includes('joined the listener'), { what: 'the second hold' });
    const gate = new IoPriorityGate({ targets: [{ host: '127.0.0.1', port }], program: 'test' });
    t.after(() => gate.close());
    await gate.start();
    assert.equal(gate.paused, true);
    const changes: boolean[] = [];
    gate.onChange((paused) => changes.push(paused));
    // The owner of the port ends first: the joined one takes the port over and the hold stands.
    await first.kill('SIGTERM');
    await waitFor(
      async () => {
        const status = await queryIoStatus('127.0.0.1', port);
        return status.listening && status.listener.pid === second.child.pid && status.clients.background === 1;
      },
      { what: 'the second program to own the port, with the gate connected to it' },
    );
    assert.deepEqual(changes, [], 'still paused');
    await second.kill('SIGTERM');
    await waitFor(() => !gate.paused, { what: 'the resume after both ended' });
    assert.deepEqual(changes, [false]);
  });

  it('kiln io hold -- CMD holds while CMD runs and exits with its code; kiln io status reports it', async (t) => {
    const home = makeTempDir(t, 'kiln-io-cli-');
    const port = await freePort();
    const flag = join(home, 'go');
    const holder = startKiln([
      'io',
      'hold',
      '--home',
      home,
      '--port',
      String(port),
      '--',
      'sh',
      '-c',
      `while [ ! -e ${flag} ]; do sleep 0.05; done; exit 3`,
    ]);
    t.after(() => holder.kill('SIGKILL'));
    await waitFor(() => holder.output().includes('holding'), { what: 'the hold' });
    const status = await runKiln(['io', 'status', '--home', home, '--port', String(port), '--json']);
    assert.equal(status.code, 0, status.stderr);
    const body = JSON.parse(status.stdout) as { held: boolean; since: string; holders: Array<{ program: string }> };
    assert.equal(body.held, true);
    assert.ok(Date.parse(body.since) > 0);
    assert.match(body.holders[0]?.program ?? '', /^sh -c while/);
    const text = await runKiln(['io', 'status', '--home', home, '--port', String(port)]);
    assert.match(text.stdout, /held since .* by sh -c/s);
    assert.match(text.stdout, /background clients: 0 connected/);
    writeDataFile(flag, 0);
    await waitFor(() => holder.child.exitCode !== null, { what: 'the holder to end' });
    assert.equal(holder.child.exitCode, 3);
    const after = await runKiln(['io', 'status', '--home', home, '--port', String(port)]);
    assert.match(after.stdout, /no foreground application listening/);
    const bad = await runKiln(['io', 'hold', '--home', home, '--port', 'x', '--seconds', '1']);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr, 'kiln: --port must be an integer from 1 to 65535, got "x"\n');
    const ports = await runKiln(['ports', '--json', '--home', home]);
    const lines = JSON.parse(ports.stdout) as Array<{ port: string; protocol: string; purpose: string }>;
    assert.match(lines.find((line) => line.port === '8244')?.purpose ?? '', /^I\/O priority/, 'kiln ports lists 8244');
  });
});
