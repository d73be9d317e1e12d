import type { Readable } from 'node:stream';
import type { App } from '../app.js';
import type { ManagerConfig } from '../../config.js';
import type { ShamanSetup, SharedStorage } from '../../storage/shared-storage.js';
import { ApiError } from '../errors.js';
import {
  BlobParams,
  BlobStatus,
  CheckoutRequest,
  CheckoutResult,
  ErrorBody,
  GcReport,
  GcRequest,
  ShamanFileList,
  ShamanMissing,
  StorageInfo,
  StorageQuery,
  UploadBody,
  UploadHeaders,
  UploadResult,
} from '../../../contract/index.js';
import { collectGarbage, createCheckout, checkBlobId } from '../../../storage/index.js';
import { SECOND } from '../../../util/time.js';
import { registerBatchUploadRoute } from './shaman-batch.js';
import { registerMissingBlobsRoute } from './shaman-missing.js';

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
  // Uploads are streamed into the store as they arrive, never buffered whole.
  api.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload));
  registerStorageInfoRoute(api, deps.storage);
  const shaman = (): ShamanSetup => {
    if (!deps.storage.shaman)
      throw new ApiError(409, 'shaman_disabled', 'Shaman is not enabled on this manager (manager.shaman.enabled)');
    return deps.storage.shaman;
  };
  registerBlobQueryRoutes(api, shaman);
  registerMissingBlobsRoute(api, shaman);
  registerUploadRoute(api, shaman);
  registerBatchUploadRoute(api, shaman);
  registerCheckoutRoutes(api, deps, shaman);
}

/** Where shared storage is, as the asking platform sees it, and whether Shaman is on. */
function registerStorageInfoRoute(api: App, storage: SharedStorage): void {
  api.get(
    '/storage',
    {
      schema: {
        tags: ['storage'],
        querystring: StorageQuery,
        response: { 200: StorageInfo },
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
}

/** Which blobs the store lacks, and one blob's status. */
function registerBlobQueryRoutes(api: App, shaman: () => ShamanSetup): void {
  api.post(
    '/shaman/checkout/requirements',
    {
      schema: {
        tags: ['shaman'],
        body: ShamanFileList,
        response: { 200: ShamanMissing, ...errors },
      },
    },
    async (request) => {
      for (const [i, file] of request.body.files.entries()) checkBlobId(file.sha256, file.size, `files[${i}]`);
      return { missing: await shaman().store.missing(request.body.files) };
    },
  );

  api.get(
    '/shaman/files/:sha256/:size',
    {
      schema: {
        tags: ['shaman'],
        params: BlobParams,
        response: { 200: BlobStatus, ...errors },
      },
    },
    async (request) => {
      checkBlobId(request.params.sha256, request.params.size);
      return { status: await shaman().store.status(request.params.sha256, request.params.size) };
    },
  );
}

/** One blob, streamed in and verified against its checksum and size. */
function registerUploadRoute(api: App, shaman: () => ShamanSetup): void {
  api.put(
    '/shaman/files/:sha256/:size',
    {
      preHandler: api.requireUser,
      schema: {
        tags: ['shaman'],
        params: BlobParams,
        headers: UploadHeaders,
        body: { content: { 'application/octet-stream': { schema: UploadBody } } },
        response: { 200: UploadResult, 415: ErrorBody, 417: ErrorBody, ...errors },
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
      const result = await shaman().store.receive(request.params.sha256, request.params.size, source, {
        deferIfUploading: defer,
      });
      if (result !== 'stored') source.resume(); // not read: let the rest of the body go by
      return { result };
    },
  );
}

/** Checkouts (trees of symlinks under the job folder) and garbage collection of the store. */
function registerCheckoutRoutes(api: App, deps: StorageRouteDeps, shaman: () => ShamanSetup): void {
  api.post(
    '/shaman/checkout/create',
    {
      preHandler: api.requireUser,
      schema: {
        tags: ['shaman'],
        body: CheckoutRequest,
        response: {
          200: CheckoutResult,
          424: ErrorBody,
          ...errors,
        },
      },
    },
    async (request) => {
      const { store, jobsDir, ioGate } = shaman();
      const result = await createCheckout(store, jobsDir, request.body.checkoutPath, request.body.files, {
        gate: ioGate,
      });
      return { checkoutPath: result.path, files: result.files, blobs: result.blobs };
    },
  );

  api.post(
    '/shaman/gc',
    {
      preHandler: api.requireUser,
      schema: {
        tags: ['shaman'],
        body: GcRequest,
        response: { 200: GcReport, ...errors },
      },
    },
    async (request) => {
      const { store, jobsDir, ioGate } = shaman();
      return collectGarbage(store, jobsDir, {
        gate: ioGate,
        maxAgeMs: (request.body.maxAgeSeconds ?? deps.config.shaman.gc.max_age) * SECOND,
        dryRun: request.body.dryRun ?? false,
      });
    },
  );
}
