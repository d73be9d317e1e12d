import type { App } from '../app.js';
import type { ShamanSetup } from '../../storage/shared-storage.js';
import { ApiError } from '../errors.js';
import { ErrorBody, MissingBlobsBody, MissingBlobsResult } from '../../../contract/index.js';
import { BLOB_IDS_CONTENT_TYPE, BLOB_ID_BYTES, MAX_BLOB_IDS, decodeBlobIds } from '../../../storage/index.js';

const BODY_LIMIT = MAX_BLOB_IDS * BLOB_ID_BYTES;

/**
 * Which of many contents the store lacks, asked compactly (POST /shaman/missing): the ids as
 * bytes, the answer as positions. The JSON list of files (/shaman/checkout/requirements) asks
 * the same; for a whole tree this one costs the manager a fraction of the parsing and checking.
 */
export function registerMissingBlobsRoute(api: App, shaman: () => ShamanSetup): void {
  api.addContentTypeParser(
    BLOB_IDS_CONTENT_TYPE,
    { parseAs: 'buffer', bodyLimit: BODY_LIMIT },
    (_request, body, done) => done(null, body),
  );
  api.post(
    '/shaman/missing',
    {
      bodyLimit: BODY_LIMIT,
      schema: {
        tags: ['shaman'],
        body: { content: { [BLOB_IDS_CONTENT_TYPE]: { schema: MissingBlobsBody } } },
        response: { 200: MissingBlobsResult, 400: ErrorBody, 409: ErrorBody, 413: ErrorBody, 415: ErrorBody },
      },
    },
    async (request) => {
      if (!Buffer.isBuffer(request.body))
        throw new ApiError(415, 'unsupported_media_type', `send the ids as ${BLOB_IDS_CONTENT_TYPE}`, 'content-type');
      const { store } = shaman();
      const present = await store.storedMany(decodeBlobIds(request.body));
      const missing: number[] = [];
      present.forEach((stored, i) => {
        if (!stored) missing.push(i);
      });
      return { missing };
    },
  );
}
