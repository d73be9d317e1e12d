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
export { BATCH_CONTENT_TYPE, BATCH_LIMITS } from './batch-limits.js';
export { runFsBatch } from './limit.js';
