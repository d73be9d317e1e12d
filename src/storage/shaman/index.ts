// Shaman: the content-addressed file store on shared storage, and its client-side helpers.
export { checkBlobId } from './blob.js';
export { ShamanError } from './errors.js';
export { ShamanStore } from './store.js';
export { createCheckout, deleteCheckout } from './checkout.js';
export { collectGarbage } from './gc.js';
export {
  hashFiles,
  HashCache,
  type HashedFile,
} from './hasher.js';
export { listTree } from './tree.js';
export type { BatchBlob } from './batch.js';
export {
  BATCH_CONTENT_TYPE,
  BATCH_LIMITS,
  BLOB_IDS_CONTENT_TYPE,
  BLOB_ID_BYTES,
  MAX_BLOB_IDS,
} from './batch-limits.js';
export { decodeBlobIds, encodeBlobIds } from './blob-ids.js';
export { mapLimit, runFsBatch } from './limit.js';
