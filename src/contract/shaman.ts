/**
 * The contract of the shared-storage routes (`/storage`, `/shaman/...`): request and answer
 * schemas, from which the OpenAPI document and the client's types come.
 */
import { Type, type Static } from '@sinclair/typebox';
import { TwoWayVariableSchema } from '../storage/paths.js';
import { PlatformSchema } from '../util/platform.js';
import {
  BATCH_CONTENT_TYPE,
  BATCH_LIMITS,
  BLOB_IDS_CONTENT_TYPE,
  BLOB_ID_BYTES,
  MAX_BLOB_IDS,
} from '../storage/shaman/batch-limits.js';

const BlobSize = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'bytes' });
const Sha256 = Type.String({ maxLength: 64, description: 'SHA-256 of the content, 64 lower-case hex digits' });
/** Files per request: a whole job's tree. */
const MAX_FILES = 1_000_000;

export const StorageQuery = Type.Object({ platform: Type.Optional(PlatformSchema) });

export const StorageInfo = Type.Object({
  sharedStoragePath: Type.Union([Type.String(), Type.Null()], {
    description: "the shared storage path in the asking platform's form; null when there is none",
  }),
  storedPath: Type.Union([Type.String(), Type.Null()], { description: 'the shared storage path as stored' }),
  variables: Type.Array(TwoWayVariableSchema),
  shaman: Type.Object({ enabled: Type.Boolean() }),
});

export const ShamanFile = Type.Object(
  {
    sha256: Sha256,
    size: BlobSize,
    path: Type.String({ minLength: 1, maxLength: 4096, description: "relative to the checkout, '/'-separated" }),
  },
  { additionalProperties: false },
);

export const ShamanFileList = Type.Object(
  { files: Type.Array(ShamanFile, { maxItems: MAX_FILES }) },
  { additionalProperties: false },
);

export const ShamanMissing = Type.Object({
  missing: Type.Array(ShamanFile, { description: 'the files whose content the store does not have' }),
});

/** The compact question "which of these are missing"; checked by the route (no type: the validator sees bytes). */
export const MissingBlobsBody = Type.Unsafe<unknown>({
  description: `${BLOB_IDS_CONTENT_TYPE}: per blob ${BLOB_ID_BYTES} bytes, the SHA-256's 32 bytes then the size as an unsigned 64-bit big-endian integer; at most ${MAX_BLOB_IDS} blobs`,
});

export const MissingBlobsResult = Type.Object({
  missing: Type.Array(Type.Integer({ minimum: 0 }), {
    description:
      'positions (from 0) of the blobs the store does not have, ascending; uploads in progress count as missing',
  }),
});

export const BlobParams = Type.Object({ sha256: Sha256, size: BlobSize });

export const BlobStatus = Type.Object({
  status: Type.Union([Type.Literal('stored'), Type.Literal('uploading'), Type.Literal('unknown')]),
});

export const UploadHeaders = Type.Object({
  'x-shaman-can-defer-upload': Type.Optional(
    Type.String({ description: "'true': answer 'deferred' at once while someone else uploads the same content" }),
  ),
});

/**
 * The upload's body: the file's bytes, streamed into the store and hashed on the way (a
 * mismatch is refused). No type: the validator sees a stream, not a string.
 */
export const UploadBody = Type.Unsafe<unknown>({
  description: "the file's bytes (application/octet-stream), streamed",
});

export const UploadResult = Type.Object({
  result: Type.Union([Type.Literal('stored'), Type.Literal('already-stored'), Type.Literal('deferred')], {
    description: "'deferred': someone else is uploading this content; ask again later",
  }),
});

/** One file of a batch upload's manifest; `path` only names the file in an error. */
const ShamanBatchFile = Type.Object(
  {
    sha256: Sha256,
    size: BlobSize,
    path: Type.Optional(Type.String({ maxLength: 4096, description: 'the file, for error messages' })),
  },
  { additionalProperties: false },
);

/** The first line of a batch upload: the files whose bytes follow, in order. */
export const ShamanBatchManifest = Type.Object(
  { files: Type.Array(ShamanBatchFile, { minItems: 1, maxItems: BATCH_LIMITS.maxFiles }) },
  { additionalProperties: false },
);

/** The batch body; its parts are checked by the route (no type: the validator sees bytes). */
export const BatchUploadBody = Type.Unsafe<unknown>({
  description: `${BATCH_CONTENT_TYPE}: a one-line JSON manifest (ShamanBatchManifest), a newline, then each file's bytes back to back in manifest order; at most ${BATCH_LIMITS.maxFiles} files and ${BATCH_LIMITS.maxBytes} bytes of files`,
});

export const BatchUploadResult = Type.Object({
  stored: Type.Integer({ description: 'distinct contents this batch wrote into the store' }),
  alreadyStored: Type.Integer({ description: 'files whose content the store had already' }),
  bytesStored: Type.Integer(),
});

export const CheckoutRequest = Type.Object(
  {
    checkoutPath: Type.String({ minLength: 1, maxLength: 1024, description: 'wanted job folder, relative' }),
    files: Type.Array(ShamanFile, { maxItems: MAX_FILES }),
  },
  { additionalProperties: false },
);

export const CheckoutResult = Type.Object({
  checkoutPath: Type.String({ description: "the job folder made: the wanted one, or it with '-1', '-2'..." }),
  files: Type.Integer(),
  blobs: Type.Integer({ description: 'distinct contents linked' }),
});

export const GcRequest = Type.Object(
  {
    dryRun: Type.Optional(Type.Boolean()),
    maxAgeSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 100 * 365 * 86_400 })),
  },
  { additionalProperties: false },
);

export const GcReport = Type.Object({
  dryRun: Type.Boolean(),
  blobsScanned: Type.Integer(),
  blobsReferenced: Type.Integer({ description: 'distinct stored contents some job folder links to' }),
  blobsRemoved: Type.Integer({ description: 'removed, or in a dry run to be removed' }),
  bytesRemoved: Type.Integer(),
  uploadsRemoved: Type.Integer({ description: 'abandoned uploads' }),
  uploadBytesRemoved: Type.Integer(),
  checkoutTempsRemoved: Type.Integer({ description: 'job folders left half-made by a crash' }),
  wouldRemove: Type.Array(Type.String(), { description: 'dry run only: the files that would be removed' }),
});

export type StorageInfo = Static<typeof StorageInfo>;
export type ShamanFile = Static<typeof ShamanFile>;
export type ShamanMissing = Static<typeof ShamanMissing>;
export type MissingBlobsResult = Static<typeof MissingBlobsResult>;
export type BlobStatus = Static<typeof BlobStatus>;
export type UploadResult = Static<typeof UploadResult>;
export type ShamanBatchManifest = Static<typeof ShamanBatchManifest>;
export type BatchUploadResult = Static<typeof BatchUploadResult>;
export type CheckoutRequest = Static<typeof CheckoutRequest>;
export type CheckoutResult = Static<typeof CheckoutResult>;
export type GcRequest = Static<typeof GcRequest>;
export type GcReport = Static<typeof GcReport>;
