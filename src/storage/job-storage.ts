import { posix, win32 } from 'node:path';
import { UserError } from '../util/errors.js';
import { isUncPath, toPlatformPath, type Platform, type TwoWayVariable } from './paths.js';
import { checkRelativePath } from './shaman/relative-path.js';

/** What a job records about its files (job.storage). Paths are in stored form, with variables. */
export interface JobStorage {
  mode: 'direct' | 'copy' | 'shaman';
  input: string;
  effectivePath: string;
  /** Shaman: the checkout's path relative to the checkout root. */
  checkout?: string;
  files?: number;
  bytesHashed?: number;
  bytesUploaded?: number;
}

const JOB_STORAGE_MODES = ['direct', 'copy', 'shaman'] as const;
const COUNTS = ['files', 'bytesHashed', 'bytesUploaded'] as const;
const KNOWN = new Set<string>(['mode', 'input', 'effectivePath', 'checkout', ...COUNTS]);
const MAX_PATH = 4096;

/**
 * Whether `path` is `folder` or inside it, for the given platform's paths. Used by the CLI when
 * it picks direct mode and by the manager when it checks a submitted storage object, so both
 * agree on what "on shared storage" means.
 */
export function isInsideFolder(path: string, folder: string, platform: Platform): boolean {
  const paths = platform === 'windows' ? win32 : posix;
  const rest = paths.relative(paths.resolve(folder), paths.resolve(path));
  return rest === '' || (!rest.startsWith('..') && !paths.isAbsolute(rest));
}

/** Whether a stored path begins with one of the farm's two-way variables (`{farm}/...`). */
function startsWithVariable(path: string, variables: readonly TwoWayVariable[]): boolean {
  const name = /^\{([^}]+)\}(?:[\\/]|$)/.exec(path)?.[1];
  return name !== undefined && variables.some((variable) => variable.name === name);
}

/** Where shared storage is, seen from the host that checks. */
export interface SharedStorageView {
  /** The shared storage path on this host; undefined when there is none. */
  path: string | undefined;
  platform: Platform;
  variables: readonly TwoWayVariable[];
}

/**
 * Checks a job's storage record as a submitter sent it, by the rules the CLI follows when it
 * makes one: a known mode; `input` and `effectivePath` are paths (stored form) on shared storage,
 * without `..` and not UNC; a Shaman checkout is a clean relative path; counts are whole numbers.
 * Throws a UserError naming the field. Returns the record, typed.
 */
export function checkJobStorage(value: unknown, shared: SharedStorageView, field = 'storage'): JobStorage {
  // Declared with its type so that a check which fails narrows what it checked.
  const fail: (message: string, at?: string) => never = (message, at = field) => {
    throw new UserError(message, { field: at, code: 'invalid_storage' });
  };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(`${field} must be an object`);
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record))
    if (!KNOWN.has(key)) fail(`${field}.${key} is not a known field`, `${field}.${key}`);
  if (!(JOB_STORAGE_MODES as readonly unknown[]).includes(record.mode)) {
    fail(`${field}.mode must be one of ${JOB_STORAGE_MODES.join(', ')}`, `${field}.mode`);
  }
  if (!shared.path)
    fail('the manager has no shared storage (manager.shared_storage_path), so a job cannot carry files');
  for (const key of ['input', 'effectivePath'] as const) {
    const at = `${field}.${key}`;
    const path = record[key];
    if (typeof path !== 'string' || path === '') fail(`${at} must be a path on shared storage`, at);
    const text = path;
    if (text.length > MAX_PATH) fail(`${at} is longer than ${MAX_PATH} characters`, at);
    if (text.split(/[\\/]/).includes('..')) fail(`${at} must not contain ".."`, at);
    if (isUncPath(text)) fail(`${at} is a UNC path; use a mapped drive letter`, at);
    // A path that starts with a two-way variable is on shared storage by definition: the
    // variable names the storage as each platform mounts it.
    if (startsWithVariable(text, shared.variables)) continue;
    const local = toPlatformPath(text, shared.platform, 'users', shared.variables);
    const absolute = shared.platform === 'windows' ? win32.isAbsolute(local) : posix.isAbsolute(local);
    if (!absolute || !isInsideFolder(local, shared.path, shared.platform))
      fail(`${at} ${text} is not on shared storage (${shared.path})`, at);
  }
  if (record.checkout !== undefined) {
    if (record.mode !== 'shaman') fail(`${field}.checkout is only for shaman storage`, `${field}.checkout`);
    checkRelativePath(record.checkout, `${field}.checkout`);
  }
  for (const key of COUNTS) {
    const count = record[key];
    if (count !== undefined && !(Number.isSafeInteger(count) && (count as number) >= 0))
      fail(`${field}.${key} must be a whole number of at least 0`, `${field}.${key}`);
  }
  return record as unknown as JobStorage;
}
