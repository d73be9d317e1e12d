// Shaman: the content-addressed file store on shared storage, and its client-side helpers.
export { type BlobId, type ShamanFile, checkBlobId, blobKey } from './blob.js';
export { SHAMAN_DEFAULTS } from './defaults.js';
export {
  ShamanError,
  InvalidBlobError,
  BlobMismatchError,
  InvalidCheckoutPathError,
  MissingBlobsError,
  httpStatusOf,
  type MissingBlob,
  type ShamanErrorCode,
} from './errors.js';
export {
  ShamanStore,
  type BlobStatus,
  type BlobSource,
  type ReceiveOptions,
  type ReceiveResult,
  type ShamanStoreOptions,
} from './store.js';
export { createCheckout, deleteCheckout, CHECKOUT_TEMP_DIR, type CheckoutResult } from './checkout.js';
export { checkRelativePath, checkCheckoutPath } from './relative-path.js';
export { collectGarbage, type GcOptions, type GcReport } from './gc.js';
export {
  hashFiles,
  HashCache,
  type HashCacheOptions,
  type HashInput,
  type HashedFile,
  type HashOptions,
  type HashProgress,
  type HashReport,
} from './hasher.js';
export { listTree, type ListTreeOptions, type SkippedEntry, type TreeEntry, type TreeListing } from './tree.js';
