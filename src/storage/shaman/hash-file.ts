import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';

export interface FileHash {
  sha256: string;
  size: number;
  mtimeMs: number;
}

/**
 * A function that hashes one file at a time with SHA-256, reading `chunkBytes` at a time into two
 * reused buffers: the next read runs in the thread pool while the current chunk is hashed.
 * Size and mtime come from the open file, so they describe what was read.
 */
export function makeFileHasher(
  chunkBytes: number,
): (path: string, onBytes?: (bytes: number) => void) => Promise<FileHash> {
  const buffers = [Buffer.allocUnsafe(chunkBytes), Buffer.allocUnsafe(chunkBytes)] as const;
  return async (path, onBytes) => {
    const handle = await open(path, 'r');
    try {
      const info = await handle.stat();
      const hash = createHash('sha256');
      let position = 0;
      let which: 0 | 1 = 0;
      let pending = handle.read(buffers[0], 0, chunkBytes, 0);
      for (;;) {
        const { bytesRead } = await pending;
        if (bytesRead === 0) break;
        const current = buffers[which];
        position += bytesRead;
        // A short read at the size fstat gave is the end; skip the read that would return 0.
        const done = bytesRead < chunkBytes && position >= info.size;
        which = which === 0 ? 1 : 0;
        if (!done) pending = handle.read(buffers[which], 0, chunkBytes, position);
        hash.update(bytesRead === chunkBytes ? current : current.subarray(0, bytesRead));
        onBytes?.(bytesRead);
        if (done) break;
      }
      return { sha256: hash.digest('hex'), size: position, mtimeMs: info.mtimeMs };
    } finally {
      await handle.close();
    }
  };
}
