const MiB = 1024 * 1024;

/**
 * Limits of one batch upload (many small files in one request, in memory at once on both
 * sides). Pure constants: the API contract and the store share them.
 */
export const BATCH_LIMITS = Object.freeze({
  maxFiles: 10_000,
  /** The files' bytes; the manifest line before them has its own limit. */
  maxBytes: 64 * MiB,
  maxManifestBytes: 4 * MiB,
});

/** The batch body: a one-line JSON manifest, a newline, then the files' bytes back to back. */
export const BATCH_CONTENT_TYPE = 'application/x-kiln-shaman-batch';

/**
 * The compact list of blob ids that asks which contents the store lacks: per blob 40 bytes, the
 * SHA-256's 32 bytes then the size as an unsigned 64-bit big-endian integer.
 */
export const BLOB_IDS_CONTENT_TYPE = 'application/x-kiln-blob-ids';
export const BLOB_ID_BYTES = 40;
/** Ids per request: a whole job's tree, like the JSON file lists. */
export const MAX_BLOB_IDS = 1_000_000;
