/**
 * The contract of the shared-storage routes (`/storage`, `/shaman/...`): request and answer
 * schemas, from which the OpenAPI document and the client's types come.
 */
import { Type, type Static } from '@sinclair/typebox';
import { TwoWayVariableSchema } from '../storage/paths.js';
import { PlatformSchema } from '../util/platform.js';

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
export type BlobStatus = Static<typeof BlobStatus>;
export type UploadResult = Static<typeof UploadResult>;
export type CheckoutRequest = Static<typeof CheckoutRequest>;
export type CheckoutResult = Static<typeof CheckoutResult>;
export type GcRequest = Static<typeof GcRequest>;
export type GcReport = Static<typeof GcReport>;
