/**
 * The shared-storage side of the manager's API (`/storage`, `/shaman/...`), over the same
 * transport as ApiClient: its timeouts and typed errors. Uploads stream the file with a limit on
 * silence, not on the whole upload (see HttpTransport's `upload`).
 */
import type { CallOptions } from './client-options.js';
import { MINUTE } from '../util/time.js';
import type { HttpTransport } from './http.js';
import { BATCH_CONTENT_TYPE, BLOB_IDS_CONTENT_TYPE } from '../storage/shaman/batch-limits.js';
import { encodeBlobIds } from '../storage/shaman/blob-ids.js';
import type {
  BatchUploadResult,
  BlobStatus,
  CheckoutResult,
  MissingBlobsResult,
  GcReport,
  GcRequest,
  Platform,
  ShamanFile,
  ShamanMissing,
  StorageInfo,
  UploadResult,
} from './types.js';

/**
 * Time limit of the calls whose work grows with a whole tree or store (which of a million files
 * are missing, a checkout, garbage collection): far more than an ordinary request's.
 */
const STORE_WORK_TIMEOUT_MS = 10 * MINUTE;

const segment = (value: string | number): string => encodeURIComponent(String(value));

export class StorageClient {
  readonly #http: HttpTransport;

  constructor(http: HttpTransport) {
    this.#http = http;
  }

  /** Where shared storage is, in `platform`'s form, its variables, and whether Shaman is on. */
  info(platform?: Platform, options?: CallOptions): Promise<StorageInfo> {
    return this.#http.json({
      method: 'GET',
      path: '/storage',
      query: { platform },
      auth: 'user',
      expect: ['sharedStoragePath', 'variables', 'shaman'],
      ...options,
    });
  }

  /** The files whose content the store lacks. */
  missing(files: readonly ShamanFile[], options?: CallOptions): Promise<ShamanMissing> {
    return this.#http.json({
      method: 'POST',
      path: '/shaman/checkout/requirements',
      json: { files },
      auth: 'user',
      expect: ['missing'],
      timeoutMs: STORE_WORK_TIMEOUT_MS,
      ...options,
    });
  }

  /**
   * Which of these contents the store lacks, asked compactly (ids as bytes): the answer holds the
   * positions of the missing ones in `ids`. Cheaper for the manager than missing() for a whole tree.
   */
  missingBlobs(
    ids: ReadonlyArray<{ sha256: string; size: number }>,
    options?: CallOptions,
  ): Promise<MissingBlobsResult> {
    return this.#http.json({
      method: 'POST',
      path: '/shaman/missing',
      raw: { body: encodeBlobIds(ids), contentType: BLOB_IDS_CONTENT_TYPE },
      auth: 'user',
      expect: ['missing'],
      timeoutMs: STORE_WORK_TIMEOUT_MS,
      ...options,
    });
  }

  blobStatus(sha256: string, size: number, options?: CallOptions): Promise<BlobStatus> {
    return this.#http.json({
      method: 'GET',
      path: `/shaman/files/${segment(sha256)}/${segment(size)}`,
      auth: 'user',
      expect: ['status'],
      ...options,
    });
  }

  /**
   * Streams one content into the store. `canDefer`: answer 'deferred' at once while another
   * client uploads the same content, instead of waiting for it.
   */
  upload(
    blob: { sha256: string; size: number; body: AsyncIterable<Uint8Array> },
    options: CallOptions & { canDefer?: boolean } = {},
  ): Promise<UploadResult> {
    return this.#http.json({
      method: 'PUT',
      path: `/shaman/files/${segment(blob.sha256)}/${segment(blob.size)}`,
      upload: { body: blob.body, contentType: 'application/octet-stream' },
      headers: options.canDefer ? { 'x-shaman-can-defer-upload': 'true' } : {},
      auth: 'user',
      expect: ['result'],
      signal: options.signal,
    });
  }

  /**
   * Sends many small files in one request (their bytes in memory); the manager verifies every
   * one and stores them with one durability barrier. A file whose bytes do not match its
   * checksum refuses the whole batch (417 naming `files[i]` and its path); nothing is kept then.
   */
  uploadBatch(
    files: ReadonlyArray<{ sha256: string; size: number; path?: string; bytes: Uint8Array }>,
    options: CallOptions = {},
  ): Promise<BatchUploadResult> {
    const manifest = JSON.stringify({ files: files.map(({ sha256, size, path }) => ({ sha256, size, path })) });
    async function* body(): AsyncGenerator<Uint8Array> {
      yield Buffer.from(`${manifest}\n`);
      for (const file of files) if (file.bytes.byteLength > 0) yield file.bytes;
    }
    return this.#http.json({
      method: 'POST',
      path: '/shaman/batch',
      upload: { body: body(), contentType: BATCH_CONTENT_TYPE },
      auth: 'user',
      expect: ['stored'],
      signal: options.signal,
    });
  }

  /** Makes a job folder of links into the store. */
  checkout(checkoutPath: string, files: readonly ShamanFile[], options?: CallOptions): Promise<CheckoutResult> {
    return this.#http.json({
      method: 'POST',
      path: '/shaman/checkout/create',
      json: { checkoutPath, files },
      auth: 'user',
      expect: ['checkoutPath'],
      timeoutMs: STORE_WORK_TIMEOUT_MS,
      ...options,
    });
  }

  /** Removes (or with `dryRun` lists) stored contents no job folder links to. */
  collectGarbage(request: GcRequest, options?: CallOptions): Promise<GcReport> {
    return this.#http.json({
      method: 'POST',
      path: '/shaman/gc',
      json: request,
      auth: 'user',
      expect: ['blobsRemoved'],
      timeoutMs: STORE_WORK_TIMEOUT_MS,
      ...options,
    });
  }
}
