/**
 * The Shaman steps of a submission over the manager's API client: ask which contents the store
 * lacks, upload those (each distinct content once, several at a time, streamed from disk), and
 * check out the job folder.
 */
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StorageClient } from '../../client/storage-client.js';
import type { CheckoutResult, ShamanFile, UploadResult } from '../../client/types.js';
import type { HashedFile } from '../../storage/index.js';
import { OPEN_GATE, type IoGate } from '../../io/index.js';

/** Uploads at once. */
const DEFAULT_CONCURRENCY = 4;
/** Before asking again about a content someone else was uploading. */
const DEFERRED_RETRY_MS = 200;
/** Bytes read from disk at a time (and so sent per chunk). */
const READ_CHUNK = 1024 * 1024;

const idOf = ({ sha256, size, path }: HashedFile): ShamanFile => ({ sha256, size, path });

/** The files whose content the store does not have yet. */
export async function missingFiles(storage: StorageClient, files: readonly HashedFile[]): Promise<HashedFile[]> {
  const answer = await storage.missing(files.map(idOf));
  const byPath = new Map(files.map((file) => [file.path, file]));
  return answer.missing.map((missing) => byPath.get(missing.path)).filter((file) => file !== undefined);
}

/** Uploads files several at once (each distinct content once), streamed from disk; resolves with the bytes stored. */
export async function uploadFiles(
  storage: StorageClient,
  root: string,
  files: readonly HashedFile[],
  options: { concurrency?: number; onUploaded?: (bytes: number) => void; gate?: IoGate } = {},
): Promise<number> {
  const gate = options.gate ?? OPEN_GATE;
  const unique = new Map<string, HashedFile>();
  for (const file of files) unique.set(`${file.sha256}/${file.size}`, file);
  const queue = [...unique.values()];
  let uploaded = 0;
  const runOne = async (): Promise<void> => {
    for (let file = queue.shift(); file; file = queue.shift()) {
      const result = await uploadGated(storage, join(root, file.path), file, gate);
      if (result === 'stored') {
        uploaded += file.size;
        options.onUploaded?.(file.size);
      } else if (result === 'deferred') {
        queue.push(file); // someone else is uploading it: check again at the end
        await sleep(DEFERRED_RETRY_MS);
      }
    }
  };
  const workers = Math.min(options.concurrency ?? DEFAULT_CONCURRENCY, queue.length || 1);
  await Promise.all(Array.from({ length: workers }, runOne));
  return uploaded;
}

/**
 * One upload, each chunk through the I/O priority gate (nothing is sent while a foreground
 * application holds). A hold that outlasts the transport's silence limit ends the upload; it is
 * sent again once the hold is over.
 */
async function uploadGated(
  storage: StorageClient,
  path: string,
  file: HashedFile,
  gate: IoGate,
): Promise<UploadResult['result']> {
  for (;;) {
    await gate.ready();
    let heldMidway = false;
    const body = createReadStream(path, { highWaterMark: READ_CHUNK });
    const gated = async function* (): AsyncGenerator<Uint8Array> {
      for await (const chunk of body) {
        // Noted before waiting: the transport may give up while we wait.
        if (gate.paused) heldMidway = true;
        await gate.ready();
        yield chunk as Uint8Array;
      }
    };
    try {
      const answer = await storage.upload({ ...file, body: gated() }, { canDefer: true });
      return answer.result;
    } catch (error) {
      if (!heldMidway) throw error;
    } finally {
      body.destroy();
    }
  }
}

export function createShamanCheckout(
  storage: StorageClient,
  checkoutPath: string,
  files: readonly HashedFile[],
): Promise<CheckoutResult> {
  return storage.checkout(checkoutPath, files.map(idOf));
}
