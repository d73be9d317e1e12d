import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { BLOB_ID_BYTES } from './batch-limits.js';
import { decodeBlobIds, encodeBlobIds } from './blob-ids.js';
import { InvalidBlobError } from './errors.js';

const sha = (data: string): string => createHash('sha256').update(data).digest('hex');

describe('blob id lists', () => {
  test('encode and decode give the same ids back, 40 bytes each, sizes up to 2^53 - 1', () => {
    const ids = [
      { sha256: sha('a'), size: 0 },
      { sha256: sha('b'), size: 4096 },
      { sha256: sha('c').toUpperCase(), size: 2 ** 32 + 7 },
      { sha256: sha('d'), size: Number.MAX_SAFE_INTEGER },
    ];
    const body = encodeBlobIds(ids);
    assert.equal(body.length, ids.length * BLOB_ID_BYTES);
    assert.equal(body.subarray(0, 32).toString('hex'), sha('a'));
    assert.deepEqual(
      decodeBlobIds(body),
      ids.map((id) => ({ sha256: id.sha256.toLowerCase(), size: id.size })),
    );
    assert.deepEqual(decodeBlobIds(encodeBlobIds([])), []);
  });

  test('encoding refuses a checksum that is not 64 hex digits and a size that is not a whole number', () => {
    const field = (error: unknown) => (error instanceof InvalidBlobError ? error.field : undefined);
    assert.throws(
      () => encodeBlobIds([{ sha256: 'abc', size: 1 }]),
      (e) => field(e) === 'ids[0].sha256',
    );
    assert.throws(
      () =>
        encodeBlobIds([
          { sha256: sha('x'), size: 1 },
          { sha256: `${sha('x').slice(0, 63)}g`, size: 1 },
        ]),
      (e) => field(e) === 'ids[1].sha256',
    );
    assert.throws(
      () => encodeBlobIds([{ sha256: sha('x'), size: 1.5 }]),
      (e) => field(e) === 'ids[0].size',
    );
    assert.throws(
      () => encodeBlobIds([{ sha256: sha('x'), size: -1 }]),
      (e) => field(e) === 'ids[0].size',
    );
  });

  test('decoding refuses a body that is not whole ids and a size beyond 2^53 - 1, naming the field', () => {
    const body = encodeBlobIds([{ sha256: sha('a'), size: 1 }]);
    assert.throws(
      () => decodeBlobIds(body.subarray(0, 39)),
      (e) => e instanceof InvalidBlobError && e.field === 'body' && e.httpStatus === 400,
    );
    const huge = Buffer.concat([body, body]);
    huge.writeUInt32BE(2 ** 21, BLOB_ID_BYTES + 32);
    assert.throws(
      () => decodeBlobIds(huge),
      (e) => e instanceof InvalidBlobError && e.field === 'ids[1].size',
    );
  });
});
