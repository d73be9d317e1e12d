/**
 * Worker thread of the hasher (hasher.ts): hashes the files of each batch it is sent and reports
 * hashed bytes every PROGRESS_INTERVAL_MS.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { makeFileHasher, makeSmallFileHasher, type FileHash } from './hash-file.js';

export interface HashBatch {
  id: number;
  paths: string[];
}
export type HashWorkerMessage =
  | { type: 'progress'; bytes: number }
  | { type: 'done'; id: number; results: FileHash[] }
  | { type: 'error'; id: number; path: string; message: string; code?: string };

const PROGRESS_INTERVAL_MS = 50;

const port = parentPort;
if (port) {
  const { chunkBytes } = workerData as { chunkBytes: number };
  const hashFile = makeFileHasher(chunkBytes);
  // Small files with blocking calls: this thread has nothing else to do meanwhile.
  const hashSmallFile = makeSmallFileHasher(chunkBytes);
  let unreported = 0;
  let lastReport = Date.now();
  const flush = (now = Date.now()): void => {
    if (unreported > 0) port.postMessage({ type: 'progress', bytes: unreported } satisfies HashWorkerMessage);
    unreported = 0;
    lastReport = now;
  };
  const progress = (bytes: number): void => {
    unreported += bytes;
    const now = Date.now();
    if (now - lastReport >= PROGRESS_INTERVAL_MS) flush(now);
  };

  port.on('message', async (batch: HashBatch) => {
    const results: FileHash[] = [];
    for (const path of batch.paths) {
      try {
        const small = hashSmallFile(path);
        if (small) progress(small.size);
        results.push(small ?? (await hashFile(path, progress)));
      } catch (error) {
        const err = error as NodeJS.ErrnoException;
        port.postMessage({
          type: 'error',
          id: batch.id,
          path,
          message: err.message,
          code: err.code,
        } satisfies HashWorkerMessage);
        return;
      }
    }
    flush();
    port.postMessage({ type: 'done', id: batch.id, results } satisfies HashWorkerMessage);
  });
}
