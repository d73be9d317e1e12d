/**
 * Copying that passes the I/O priority gate before every chunk it writes: a hold stops it within
 * one chunk, and nothing more is written until the hold ends. The next chunk is read while the
 * current one is written, so a copy with no hold runs as fast as a streamed one.
 */
import { lstat, mkdir, open, readdir, readlink, symlink, utimes, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { OPEN_GATE, type IoGate } from './gate.js';

/** Bytes per chunk: a 1 MiB write takes about a millisecond to the page cache, well inside the pause target. */
const COPY_CHUNK_BYTES = 1024 * 1024;

export interface GatedCopyOptions {
  gate?: Pick<IoGate, 'ready'> | undefined;
  signal?: AbortSignal | undefined;
  /** Bytes just written (for progress). */
  onBytes?: (bytes: number) => void;
  /** Called with the milliseconds waited each time the gate held the copy. */
  onPaused?: (waitedMs: number) => void;
  /** Keep the source's modification and access times (default true). */
  preserveTimestamps?: boolean;
  chunkBytes?: number;
}

/** Copies one file's content to `dest` (created or truncated, with the source's permission bits). */
export async function copyFileGated(src: string, dest: string, options: GatedCopyOptions = {}): Promise<number> {
  const gate = options.gate ?? OPEN_GATE;
  const size = options.chunkBytes ?? COPY_CHUNK_BYTES;
  const input = await open(src, 'r');
  let output: FileHandle | undefined;
  try {
    const info = await input.stat();
    output = await open(dest, 'w', info.mode & 0o777);
    const buffers = [Buffer.allocUnsafe(size), Buffer.allocUnsafe(size)];
    let position = 0;
    let turn = 0;
    let reading = input.read(buffers[0] as Buffer, 0, size, 0);
    for (;;) {
      const { bytesRead, buffer } = await reading;
      if (bytesRead === 0) break;
      options.signal?.throwIfAborted();
      const waited = await gate.ready(options.signal);
      if (waited > 0) options.onPaused?.(waited);
      turn = 1 - turn;
      reading = input.read(buffers[turn] as Buffer, 0, size, position + bytesRead);
      reading.catch(() => undefined); // awaited next turn; a copy stopped first must not leave it unhandled
      await writeAll(output, buffer, bytesRead, position);
      position += bytesRead;
      options.onBytes?.(bytesRead);
    }
    if (options.preserveTimestamps !== false) await output.utimes(info.atime, info.mtime);
    return position;
  } finally {
    await output?.close();
    await input.close();
  }
}

async function writeAll(output: FileHandle, buffer: Buffer, length: number, position: number): Promise<void> {
  let offset = 0;
  while (offset < length) {
    const { bytesWritten } = await output.write(buffer, offset, length - offset, position + offset);
    offset += bytesWritten;
  }
}

/**
 * Copies a folder tree (files, folders, symbolic links as links) to `dest`, which must not exist;
 * every file through the gate. Resolves with the bytes copied.
 */
export async function copyTreeGated(src: string, dest: string, options: GatedCopyOptions = {}): Promise<number> {
  const info = await lstat(src);
  if (info.isSymbolicLink()) {
    await symlink(await readlink(src), dest);
    return 0;
  }
  if (!info.isDirectory()) return copyFileGated(src, dest, options);
  await mkdir(dest, { mode: info.mode & 0o777 });
  let bytes = 0;
  for (const entry of await readdir(src)) {
    options.signal?.throwIfAborted();
    bytes += await copyTreeGated(join(src, entry), join(dest, entry), options);
  }
  if (options.preserveTimestamps !== false) await utimes(dest, info.atime, info.mtime);
  return bytes;
}
