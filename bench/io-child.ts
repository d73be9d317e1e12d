/**
 * The background writer of `npm run bench -- io`: writes 1 MiB chunks in a loop (over a 64 MiB
 * file) through an I/O priority gate watching 127.0.0.1:PORT. Prints, on the monotonic clock
 * shared by every process here: `pause <end of the last write before waiting> <when the gate
 * heard of the hold>` when a wait begins, and `resume <start of the first write after it>` when it ends.
 */
import { open } from 'node:fs/promises';
import { IoPriorityGate } from '../src/io/index.js';

const [path, port] = process.argv.slice(2);
if (!path || !port) throw new Error('usage: io-child FILE PORT');
const CHUNK = 1024 * 1024;
const SPAN = 64 * CHUNK;
const gate = new IoPriorityGate({ targets: [{ host: '127.0.0.1', port: Number(port) }], program: 'bench writer' });
await gate.start();
const file = await open(path, 'w');
const chunk = Buffer.alloc(CHUNK, 1);
let lastWriteEnd = process.hrtime.bigint();
/** When the gate heard of the last hold (the notification's share of the pause reaction). */
let noticed = 0n;
gate.onChange((paused) => {
  if (paused) noticed = process.hrtime.bigint();
});
let position = 0;
let stopping = false;
process.stdin.on('end', () => (stopping = true)).resume();
process.stdout.write('ready\n');
while (!stopping) {
  if (gate.paused) {
    process.stdout.write(`pause ${lastWriteEnd} ${noticed}\n`);
    await gate.ready();
    process.stdout.write(`resume ${process.hrtime.bigint()}\n`);
  } else await gate.ready();
  await file.write(chunk, 0, CHUNK, position);
  lastWriteEnd = process.hrtime.bigint();
  position = (position + CHUNK) % SPAN;
}
await file.close();
gate.close();
