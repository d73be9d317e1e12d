/**
 * `npm run bench -- io`: I/O priority. A background writer (its own process) writes 1 MiB chunks
 * through the gate while this process holds and releases 200 times: pause reaction is the time
 * from hold() to the end of the writer's last write, resume reaction from release() to its next
 * write. Then a 256 MiB copy through the gate with no hold beside an unchecked streamed copy.
 */
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, openSync, closeSync, writeSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { createInterface } from 'node:readline';
import { IoPriority, IoPriorityGate, copyFileGated } from '../src/io/index.js';
import { freePort } from '../src/testing/temp.js';
import { median, ms, percentile, timed } from './stats.js';

const MiB = 1024 * 1024;

/** The numbers of the writer's next line that starts with `word`. */
function lineReader(lines: AsyncIterator<string>): (word: string) => Promise<bigint[]> {
  return async (word) => {
    for (;;) {
      const { value, done } = await lines.next();
      if (done) throw new Error('the writer ended');
      const [first, ...rest] = value.split(' ');
      if (first === word) return rest.map((text) => BigInt(text));
    }
  };
}

async function reactions(dir: string, holds: number): Promise<{ pause: number[]; notice: number[]; resume: number[] }> {
  const port = await freePort();
  const io = new IoPriority({ port, listen: '127.0.0.1', program: 'bench holder' });
  await io.open();
  const child = spawn(
    process.execPath,
    [new URL('./io-child.js', import.meta.url).pathname, join(dir, 'w'), String(port)],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const next = lineReader(createInterface({ input: child.stdout })[Symbol.asyncIterator]());
  await next('ready');
  const pause: number[] = [];
  const notice: number[] = [];
  const resume: number[] = [];
  try {
    for (let index = 0; index < holds; index++) {
      await sleep(5 + (index % 10)); // let the writer run, landing the hold at varied points of a write
      const held = process.hrtime.bigint();
      const hold = await io.hold();
      const [lastWrite = 0n, noticed = 0n] = await next('pause');
      pause.push(Math.max(0, Number(lastWrite - held) / 1e6));
      notice.push(Number(noticed - held) / 1e6);
      await sleep(2);
      const released = process.hrtime.bigint();
      await hold.release();
      const [resumed = 0n] = await next('resume');
      resume.push(Number(resumed - released) / 1e6);
    }
  } finally {
    child.stdin.end();
    await new Promise((resolve) => child.once('exit', resolve));
    await io.close();
  }
  return { pause, notice, resume };
}

function writeData(path: string, bytes: number): void {
  const block = Buffer.alloc(MiB, 5);
  const fd = openSync(path, 'w');
  for (let offset = 0; offset < bytes; offset += MiB) writeSync(fd, block);
  closeSync(fd);
}

/** MiB/s of each kind of copy, median of alternating runs. */
async function throughput(dir: string, rounds: number): Promise<{ speeds: Record<string, number>; readyNs: number }> {
  const size = 256 * MiB;
  const src = join(dir, 'src.bin');
  writeData(src, size);
  const port = await freePort();
  const io = new IoPriority({ port, listen: '127.0.0.1', program: 'bench idle holder' });
  await io.open(); // a listener with no hold: the gate is connected and open
  const gate = new IoPriorityGate({ targets: [{ host: '127.0.0.1', port }], program: 'bench copy' });
  await gate.start();
  const kinds: Array<[string, (dest: string) => Promise<unknown>]> = [
    ['unchecked copy (same loop, no gate)', (dest) => copyFileGated(src, dest)],
    ['gated copy (gate connected, no hold)', (dest) => copyFileGated(src, dest, { gate })],
    [
      'streamed copy (createReadStream, 1 MiB chunks)',
      (dest) => pipeline(createReadStream(src, { highWaterMark: MiB }), createWriteStream(dest)),
    ],
  ];
  const times: Record<string, number[]> = {};
  let readyNs = Number.NaN;
  try {
    // What the gate adds per chunk, free of the disk's noise: one `await ready()` on an open gate.
    const calls = 1_000_000;
    const [, took] = await timed(async () => {
      for (let index = 0; index < calls; index++) await gate.ready();
    });
    readyNs = (took * 1e6) / calls;
    // The two copies compared go in alternating order (the page cache's write-back of one run slows
    // whichever follows); the streamed copy, a peer only, runs after them.
    const order = (round: number) =>
      round >= 2 * rounds ? [kinds[2]] : round % 2 ? [kinds[1], kinds[0]] : [kinds[0], kinds[1]];
    for (let round = 0; round < 2 * rounds + Math.ceil(rounds / 2); round++)
      for (const kind of order(round)) {
        const [name, copy] = kind as (typeof kinds)[number];
        const dest = join(dir, 'dest.bin');
        const [, took] = await timed(() => copy(dest));
        rmSync(dest);
        times[name] = [...(times[name] ?? []), took];
      }
  } finally {
    gate.close();
    await io.close();
  }
  const speeds = Object.fromEntries(
    Object.entries(times).map(([name, list]) => [name, size / MiB / (median(list) / 1000)]),
  );
  return { speeds, readyNs };
}

export async function benchIo(holds = 200, rounds = 11): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-bench-io-'));
  try {
    console.log(
      `I/O priority (load average ${loadavg()
        .map((value) => value.toFixed(2))
        .join(' ')})`,
    );
    const { pause, notice, resume } = await reactions(dir, holds);
    console.log(
      `  pause reaction over ${holds} holds (hold() to the writer's last write): p50 ${ms(percentile(pause, 50))}, p99 ${ms(percentile(pause, 99))}, max ${ms(Math.max(...pause))} (target p99 <= 10 ms)`,
    );
    console.log(
      `  of which the gate hearing of the hold (hold() to its change event): p50 ${ms(percentile(notice, 50))}, p99 ${ms(percentile(notice, 99))}`,
    );
    console.log(
      `  resume reaction (release() to the writer's next write): p50 ${ms(percentile(resume, 50))}, p99 ${ms(percentile(resume, 99))}`,
    );
    const { speeds, readyNs } = await throughput(dir, rounds);
    const base = speeds['unchecked copy (same loop, no gate)'] ?? Number.NaN;
    for (const [name, speed] of Object.entries(speeds))
      console.log(`  ${name}: ${speed.toFixed(0)} MiB/s (${(speed / base).toFixed(3)}x the unchecked copy)`);
    const chunkNs = 1e9 / base; // one 1 MiB chunk of the unchecked copy
    console.log(
      `  gate.ready() with no hold: ${readyNs.toFixed(0)} ns per chunk, ${((100 * readyNs) / chunkNs).toFixed(3)}% of a 1 MiB chunk's copy time`,
    );
    console.log(
      `  load average after: ${loadavg()
        .map((value) => value.toFixed(2))
        .join(' ')}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
