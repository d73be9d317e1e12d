import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { App } from '../app.js';
import type { ShamanSetup } from '../../storage/shared-storage.js';
import { ApiError } from '../errors.js';
import { BatchUploadBody, BatchUploadResult, ErrorBody, ShamanBatchManifest } from '../../../contract/index.js';
import { BATCH_CONTENT_TYPE, BATCH_LIMITS, type BatchBlob } from '../../../storage/index.js';

const errors = { 400: ErrorBody, 404: ErrorBody, 409: ErrorBody };
const manifestChecker = TypeCompiler.Compile(ShamanBatchManifest);
/** The whole body: the manifest line and the files' bytes. */
const BODY_LIMIT = BATCH_LIMITS.maxBytes + BATCH_LIMITS.maxManifestBytes;
const NEWLINE = 0x0a;

/**
 * Many small files in one request (POST /shaman/batch): verified, then stored with one
 * durability barrier for the batch. Large files keep the streamed PUT of one file.
 */
export function registerBatchUploadRoute(api: App, shaman: () => ShamanSetup): void {
  // Buffered whole (a batch is small files, at most BODY_LIMIT): each file is a slice of it.
  api.addContentTypeParser(BATCH_CONTENT_TYPE, { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (_request, body, done) =>
    done(null, body),
  );
  api.post(
    '/shaman/batch',
    {
      preHandler: api.requireUser,
      bodyLimit: BODY_LIMIT,
      schema: {
        tags: ['shaman'],
        body: { content: { [BATCH_CONTENT_TYPE]: { schema: BatchUploadBody } } },
        response: { 200: BatchUploadResult, 413: ErrorBody, 415: ErrorBody, 417: ErrorBody, ...errors },
      },
    },
    async (request) => {
      if (!Buffer.isBuffer(request.body))
        throw new ApiError(415, 'unsupported_media_type', `send the batch as ${BATCH_CONTENT_TYPE}`, 'content-type');
      return shaman().store.receiveBatch(parseBatch(request.body));
    },
  );
}

/** Splits a batch body into its files; 400 naming the field when the manifest or the lengths are wrong. */
function parseBatch(body: Buffer): BatchBlob[] {
  const end = body.indexOf(NEWLINE);
  if (end < 0 || end > BATCH_LIMITS.maxManifestBytes)
    throw new ApiError(
      400,
      'invalid_request',
      `the batch must start with a JSON manifest line of at most ${BATCH_LIMITS.maxManifestBytes} bytes`,
      'manifest',
    );
  let manifest: unknown;
  try {
    manifest = JSON.parse(body.subarray(0, end).toString('utf8'));
  } catch (error) {
    throw new ApiError(400, 'malformed_json', `the batch manifest is not valid JSON: ${String(error)}`, 'manifest');
  }
  if (!manifestChecker.Check(manifest)) {
    const first = manifestChecker.Errors(manifest).First();
    const field = `manifest${(first?.path ?? '').replace(/\/(\d+)/g, '[$1]').replaceAll('/', '.')}`;
    throw new ApiError(400, 'invalid_request', `${field} ${first?.message ?? 'is invalid'}`, field);
  }
  const { files } = manifest;
  const announced = files.reduce((sum, file) => sum + file.size, 0);
  if (announced > BATCH_LIMITS.maxBytes)
    throw new ApiError(
      413,
      'too_large',
      `the batch holds ${announced} bytes of files; at most ${BATCH_LIMITS.maxBytes} per batch`,
      'manifest.files',
    );
  const bytes = body.subarray(end + 1);
  if (bytes.length !== announced)
    throw new ApiError(
      400,
      'size_mismatch',
      `the manifest announces ${announced} bytes of files, the body holds ${bytes.length}`,
      'body',
    );
  let offset = 0;
  return files.map((file) => {
    const slice = bytes.subarray(offset, offset + file.size);
    offset += file.size;
    return { ...file, bytes: slice };
  });
}
