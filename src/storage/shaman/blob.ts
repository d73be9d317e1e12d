import { sep } from 'node:path';
import { InvalidBlobError } from './errors.js';

/** A piece of content in the store, named by its SHA-256 and size. */
export interface BlobId {
  sha256: string;
  size: number;
}

/** One file of a submission: its content and where it goes in a checkout (posix, relative). */
export interface ShamanFile extends BlobId {
  path: string;
}

const SHA256 = /^[0-9a-f]{64}$/;

/** Validates a blob id and returns the checksum in lower case; throws InvalidBlobError. */
export function checkBlobId(sha256: unknown, size: unknown, field = ''): string {
  const prefix = field ? `${field}.` : '';
  if (typeof sha256 !== 'string' || !SHA256.test(sha256.toLowerCase())) {
    throw new InvalidBlobError(
      `checksum ${JSON.stringify(sha256)} is not a SHA-256 in hex (64 digits)`,
      `${prefix}sha256`,
    );
  }
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new InvalidBlobError(`size ${JSON.stringify(size)} is not a whole number of bytes`, `${prefix}size`);
  }
  return sha256.toLowerCase();
}

/** `ab/cdef.../<size>.blob`, relative to the store's `stored/` folder. */
export function blobSubpath(sha256: string, size: number): string {
  // Concatenation, not path.join: this runs once per file of a checkout.
  return `${sha256.slice(0, 2)}${sep}${sha256.slice(2)}${sep}${size}.blob`;
}

/** The identity of a blob as one string, for sets and maps. */
export function blobKey(sha256: string, size: number): string {
  return `${sha256}/${size}`;
}

/**
 * The key of the blob a path points to, judged by its last three segments
 * (`ab/<62 hex>/<size>.blob`), so any absolute or relative link into the store is recognised.
 */
export function blobKeyOfPath(path: string): string | undefined {
  const parts = path.split(/[\\/]+/);
  const [head, rest, file] = parts.slice(-3);
  if (head === undefined || rest === undefined || file === undefined) return undefined;
  const match = /^(\d+)\.blob$/.exec(file);
  const sha256 = `${head}${rest}`;
  if (!match || head.length !== 2 || !SHA256.test(sha256)) return undefined;
  return blobKey(sha256, Number(match[1]));
}
