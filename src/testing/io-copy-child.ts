/**
 * For tests: a background copy as its own process, through an I/O priority gate that watches
 * 127.0.0.1:PORT. `node io-copy-child.js SRC DEST PORT`; prints `copied N` at the end.
 */
import { IoPriorityGate, copyFileGated } from '../io/index.js';

const [src, dest, port] = process.argv.slice(2);
if (!src || !dest || !port) throw new Error('usage: io-copy-child SRC DEST PORT');
const gate = new IoPriorityGate({ targets: [{ host: '127.0.0.1', port: Number(port) }], program: 'io-copy-child' });
await gate.start();
process.stdout.write('started\n');
const bytes = await copyFileGated(src, dest, { gate });
gate.close();
process.stdout.write(`copied ${bytes}\n`);
