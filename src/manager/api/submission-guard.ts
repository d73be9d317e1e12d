import { checkJobStorage, type SharedStorageView } from '../../storage/job-storage.js';
import { ApiError } from './errors.js';
import type { SubmitJob } from '../../contract/index.js';

/**
 * How much a job may carry besides its tasks. Settings and metadata are stored with the job,
 * sent with every job listing and read by every tool; a job is not a file store.
 * Larger submissions are refused with 413 (`too_large`), naming the field.
 */
export const SUBMISSION_LIMITS = {
  /** Characters in one string of the settings (a key or a value, at any depth). */
  settingsString: 65_536,
  /** Bytes of the settings as JSON. */
  settingsBytes: 1_048_576,
  /** Characters in one metadata key. */
  metadataKey: 200,
  /** Characters in one metadata value. */
  metadataValue: 4_096,
  /** Bytes of the metadata as JSON. */
  metadataBytes: 65_536,
} as const;

const tooLarge = (message: string, field: string): ApiError => new ApiError(413, 'too_large', message, field);

/**
 * Checks what the schema cannot say about a submission before anything is compiled or stored:
 * the sizes above, and a `storage` record by the rules the CLI follows when it makes one.
 */
export function checkSubmission(body: SubmitJob, shared: SharedStorageView): void {
  if (body.settings !== undefined) checkSettings(body.settings);
  if (body.metadata !== undefined) checkMetadata(body.metadata);
  if (body.storage !== undefined) checkJobStorage(body.storage, shared);
}

function checkSettings(settings: Record<string, unknown>): void {
  const limit = SUBMISSION_LIMITS.settingsString;
  // Iterative: depth is bounded by the input guard, but a wide object should not recurse either.
  const stack: Array<{ value: unknown; path: string }> = [{ value: settings, path: 'settings' }];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const { value, path } = next;
    if (typeof value === 'string') {
      if (value.length > limit)
        throw tooLarge(
          `${path} is ${value.length.toLocaleString('en-US')} characters long; a setting may have at most ${limit.toLocaleString('en-US')}`,
          path,
        );
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        if (key.length > limit)
          throw tooLarge(
            `${path} has a key of ${key.length.toLocaleString('en-US')} characters; at most ${limit.toLocaleString('en-US')}`,
            path,
          );
        stack.push({ value: item, path: `${path}.${key}` });
      }
    }
  }
  checkTotal(settings, 'settings', SUBMISSION_LIMITS.settingsBytes);
}

function checkMetadata(metadata: Record<string, string>): void {
  for (const [key, value] of Object.entries(metadata)) {
    if (key.length > SUBMISSION_LIMITS.metadataKey)
      throw tooLarge(
        `metadata has a key of ${key.length} characters; at most ${SUBMISSION_LIMITS.metadataKey}`,
        'metadata',
      );
    if (value.length > SUBMISSION_LIMITS.metadataValue) {
      throw tooLarge(
        `metadata.${key} is ${value.length.toLocaleString('en-US')} characters long; a metadata value may have at most ${SUBMISSION_LIMITS.metadataValue.toLocaleString('en-US')}`,
        `metadata.${key}`,
      );
    }
  }
  checkTotal(metadata, 'metadata', SUBMISSION_LIMITS.metadataBytes);
}

function checkTotal(value: unknown, field: string, limit: number): void {
  const bytes = Buffer.byteLength(JSON.stringify(value));
  if (bytes > limit)
    throw tooLarge(
      `${field} is ${bytes.toLocaleString('en-US')} bytes as JSON; at most ${limit.toLocaleString('en-US')}`,
      field,
    );
}
