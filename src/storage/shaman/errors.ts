import { UserError } from '../../util/errors.js';

/**
 * Errors of the Shaman store, each with the HTTP status the API should answer with.
 * They are UserErrors: the client sent something it can correct.
 */
export type ShamanErrorCode = 'invalid_blob' | 'checksum_mismatch' | 'size_mismatch' | 'invalid_path' | 'missing_blobs';

export abstract class ShamanError extends UserError {
  abstract readonly httpStatus: number;
  constructor(message: string, code: ShamanErrorCode, field?: string) {
    super(message, { code, field });
    this.name = new.target.name;
  }
  override get code(): ShamanErrorCode {
    return super.code as ShamanErrorCode;
  }
}

/** A checksum that is not 64 hex digits, or a size that is not a non-negative integer: 400. */
export class InvalidBlobError extends ShamanError {
  readonly httpStatus = 400;
  constructor(message: string, field?: string) {
    super(message, 'invalid_blob', field);
  }
}

/** The uploaded bytes do not have the announced SHA-256 or size; nothing was kept: 417. */
export class BlobMismatchError extends ShamanError {
  readonly httpStatus = 417;
  constructor(
    readonly kind: 'checksum_mismatch' | 'size_mismatch',
    readonly expected: { sha256: string; size: number },
    readonly received: { sha256?: string; size: number },
    /** In a batch upload: which file (`files[i]`) and its path. */
    at?: { field: string; path?: string },
  ) {
    const what = at ? `${at.field}${at.path ? ` (${at.path})` : ''}: ` : '';
    super(
      kind === 'size_mismatch'
        ? `${what}upload of ${expected.sha256} should be ${expected.size} bytes, received ${received.size}${received.sha256 ? '' : ' or more'}`
        : `${what}upload of ${expected.size} bytes has SHA-256 ${received.sha256}, not the announced ${expected.sha256}`,
      kind,
      at?.field,
    );
  }
}

/** A checkout path or a file path inside a checkout that is absolute, escapes with `..`, or is malformed: 400. */
export class InvalidCheckoutPathError extends ShamanError {
  readonly httpStatus = 400;
  constructor(
    readonly path: string,
    reason: string,
    field = 'path',
  ) {
    super(`invalid checkout path ${JSON.stringify(path)}: ${reason}`, 'invalid_path', field);
  }
}

export interface MissingBlob {
  sha256: string;
  size: number;
  path: string;
}

/** A checkout asked for files whose content is not in the store; nothing was created: 424. */
export class MissingBlobsError extends ShamanError {
  readonly httpStatus = 424;
  constructor(readonly missing: readonly MissingBlob[]) {
    const first = missing
      .slice(0, 3)
      .map((file) => file.path)
      .join(', ');
    super(
      `${missing.length} file(s) of the checkout are not in the store (${first}${missing.length > 3 ? ', ...' : ''}); upload them first`,
      'missing_blobs',
    );
  }
}
