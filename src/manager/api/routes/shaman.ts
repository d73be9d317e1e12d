import { Type } from '@sinclair/typebox';
import type { Readable } from 'node:stream';
import type { App } from '../app.js';
import type { ManagerConfig } from '../../config.js';
import type { SharedStorage } from '../../storage/shared-storage.js';
import { ApiError } from '../errors.js';
import { ErrorBody } from '../../../contract/index.js';
import { collectGarbage, createCheckout, checkBlobId, PlatformSchema } from '../../../storage/index.js';
import { SECOND } from '../../../util/time.js';

const BlobSize = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const ShamanFile = Type.Object(
  { sha256: Type.String({ maxLength: 64 }), size: BlobSize, path: Type.String({ minLength: 1, maxLength: 4096 }) },
  { additionalProperties: false },
);
const BlobParams = Type.Object({ sha256: Type.String({ maxLength: 64 }), size: BlobSize });
const errors = { 400: ErrorBody, 404: ErrorBody, 409: ErrorBody };

/**
 * Shared storage for submitters: where it is, and the Shaman store (ask what is missing,
 * upload streamed and verified, check out as a tree of symlinks, collect garbage).
 */
export interface StorageRouteDeps {
  storage: SharedStorage;
  config: Pick<ManagerConfig, 'shaman'>;
}

export function registerStorageRoutes(api: App, deps: StorageRouteDeps): void {
  const { storage } = deps;
  // Uploads are streamed into the store as they arrive, never buffered whole.
  api.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload));

  api.get(
    '/storage',
    {
      schema: {
        tags: ['storage'],
        querystring: Type.Object({ platform: Type.Optional(PlatformSchema) }),
        response: {
          200: Type.Object({
            sharedStoragePath: Type.Union([Type.String(), Type.Null()]),
            storedPath: Type.Union([Type.String(), Type.Null()]),
            variables: Type.Array(Type.Unknown()),
            shaman: Type.Object({ enabled: Type.Boolean() }),
          }),
        },
      },
    },
    async (request) => ({
      sharedStoragePath: storage.storedPath
        ? storage.forPlatform(storage.storedPath, request.query.platform ?? storage.platform, 'users')
        : null,
      storedPath: storage.storedPath ?? null,
      variables: [...storage.variables],
      shaman: { enabled: Boolean(storage.shaman) },
    }),
  );

  const store = () => {
    if (!storage.shaman)
      throw new ApiError(409, 'shaman_disabled', 'Shaman is not enabled on this manager (manager.shaman.enabled)');
    return storage.shaman;
  };

  api.post(
    '/shaman/checkout/requirements',
    {
      schema: {
        tags: ['shaman'],
        body: Type.Object({ files: Type.Array(ShamanFile, { maxItems: 1_000_000 }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ missing: Type.Array(ShamanFile) }), ...errors },
      },
    },
    async (request) => {
      request.body.files.forEach((file, i) => checkBlobId(file.sha256, file.size, `files[${i}]`));
      return { missing: await store().missing(request.body.files) };
    },
  );

  api.get(
    '/shaman/files/:sha256/:size',
    {
      schema: {
        tags: ['shaman'],
        params: BlobParams,
        response: { 200: Type.Object({ status: Type.String() }), ...errors },
      },
    },
    async (request) => {
      checkBlobId(request.params.sha256, request.params.size);
      return { status: await store().status(request.params.sha256, request.params.size) };
    },
  );

  api.put(
    '/shaman/files/:sha256/:size',
    {
      preHandler: api.requireUser,
      schema: {
        tags: ['shaman'],
        params: BlobParams,
        response: { 200: Type.Object({ result: Type.String() }), 417: ErrorBody, ...errors },
      },
    },
    async (request) => {
      checkBlobId(request.params.sha256, request.params.size);
      const source = request.body as Readable | undefined;
      if (!source || typeof (source as Readable).pipe !== 'function') {
        throw new ApiError(
          415,
          'unsupported_media_type',
          'upload the file as application/octet-stream',
          'content-type',
        );
      }
      const defer = request.headers['x-shaman-can-defer-upload'] === 'true';
      const result = await store().receive(request.params.sha256, request.params.size, source, {
        deferIfUploading: defer,
      });
      if (result !== 'stored') source.resume(); // not read: let the rest of the body go by
      return { result };
    },
  );

  api.post(
    '/shaman/checkout/create',
    {
      preHandler: api.requireUser,
      schema: {
        tags: ['shaman'],
        body: Type.Object(
          {
            checkoutPath: Type.String({ minLength: 1, maxLength: 1024 }),
            files: Type.Array(ShamanFile, { maxItems: 1_000_000 }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ checkoutPath: Type.String(), files: Type.Integer(), blobs: Type.Integer() }),
          424: ErrorBody,
          ...errors,
        },
      },
    },
    async (request) => {
      const result = await createCheckout(store(), storage.jobsDir!, request.body.checkoutPath, request.body.files);
      return { checkoutPath: result.path, files: result.files, blobs: result.blobs };
    },
  );

  api.post(
    '/shaman/gc',
    {
      preHandler: api.requireUser,
      schema: {
        tags: ['shaman'],
        body: Type.Object(
          {
            dryRun: Type.Optional(Type.Boolean()),
            maxAgeSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 100 * 365 * 86_400 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Unknown(), ...errors },
      },
    },
    async (request) =>
      collectGarbage(store(), storage.jobsDir!, {
        maxAgeMs: (request.body.maxAgeSeconds ?? deps.config.shaman.gc.max_age) * SECOND,
        dryRun: request.body.dryRun ?? false,
      }),
  );
}
