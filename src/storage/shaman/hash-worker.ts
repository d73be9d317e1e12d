/**
 * Worker thread of the hasher (hasher.ts): hashes the files of each batch it is sent with
 * SHA-256, reading in large chunks into two reused buffers so the next read runs while the
 * current chunk is hashed.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';

export interface HashBatch {
  id: number;
  paths: string[];
}
export interface HashedResult {
  sha256: string;
  size: number;
  mtimeMs: number;
}
export type HashWorkerMessage =
  | { type: 'progress'; bytes: number }
  | { type: 'done'; id: number; results: HashedResult[] }
  | { type: 'error'; id: number; path: string; message: string; code?: string };

const PROGRESS_INTERVAL_MS = 50;

const port = parentPort;
if (port) {
  const chunkBytes = (workerData as { chunkBytes: number }).chunkBytes;
  const buffers = [Buffer.allocUnsafe(chunkBytes), Buffer.allocUnsafe(chunkBytes)] as const;
  let unreported = 0;
  let lastReport = Date.now();
  const progress = (bytes: number): void => {
    unreported += bytes;
    const now = Date.now();
    if (now - lastReport >= PROGRESS_INTERVAL_MS) flush(now);
  };
  const flush = (now = Date.now()): void => {
    if (unreported > 0) port.postMessage({ type: 'progress', bytes: unreported } satisfies HashWorkerMessage);
    unreported = 0;
    lastReport = now;
  };

  const hashFile = async (path: string): Promise<HashedResult> => {
    const handle = await open(path, 'r');
    try {
      const info = await handle.stat();
      const hash = createHash('sha256');
      let position = 0;
      let which = 0;
      let pending = handle.read(buffers[0], 0, chunkBytes, 0);
      for (;;) {
        const { bytesRead } = await pending;
        if (bytesRead === 0) break;
        const current = buffers[which as 0 | 1];
        position += bytesRead;
        // A short read at the size fstat gave is the end; skip the read that would return 0.
        const done = bytesRead < chunkBytes && position >= info.size;
        which ^= 1;
        if (!done) pending = handle.read(buffers[which as 0 | 1], 0, chunkBytes, position);
        hash.update(bytesRead === chunkBytes ? current : current.subarray(0, bytesRead));
        progress(bytesRead);
        if (done) break;
      }
      return { sha256: hash.digest('hex'), size: position, mtimeMs: info.mtimeMs };
    } finally {
      await handle.close();
    }
  };

  port.on('message', async (batch: HashBatch) => {
    const results: HashedResult[] = [];
    for (const path of batch.paths) {
      try {
        results.push(await hashFile(path));
      } catch (error) {
        const err = error as NodeJS.ErrnoException;
        port.postMessage({ type: 'error', id: batch.id, path, message: err.message, code: err.code } satisfies HashWorkerMessage);
        return;
      }
    }
    flush();
    port.postMessage({ type: 'done', id: batch.id, results } satisfies HashWorkerMessage);
  });
}
