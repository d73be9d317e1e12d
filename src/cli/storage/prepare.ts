import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { UserError } from '../../util/errors.js';
import {
  assertNotUncPath,
  hashFiles,
  HashCache,
  listTree,
  platformOf,
  toStoredPath,
  type HashedFile,
} from '../../storage/index.js';
import { isInsideFolder, type JobStorage } from '../../storage/job-storage.js';
import type { ApiClient } from '../../client/api-client.js';
import { askEarly, missingFiles, uploadFiles, createShamanCheckout, type EarlyAnswers } from './shaman-upload.js';
import { copyFileGated, openIoGate, type IoGate } from '../../io/index.js';

export type StorageMode = 'auto' | 'direct' | 'copy' | 'shaman';

export interface PrepareOptions {
  /** The manager (its shared storage and Shaman store). */
  client: ApiClient;
  input: string;
  deps: string[];
  mode: StorageMode;
  jobName: string;
  /** Where the client keeps its hash cache. */
  home: string;
  progress?: ProgressReporter;
}

export interface ProgressReporter {
  start(label: string, total: number, unit: 'bytes' | 'files'): void;
  advance(amount: number): void;
  stop(): void;
}

/** The same test the manager applies to a submitted storage record (checkJobStorage). */
const isInside = (path: string, folder: string): boolean => isInsideFolder(path, folder, platformOf());

/** `2026-11-22T10-15-03-shot-010`: sorts by time, safe on every file system. */
function jobFolderName(jobName: string, now = new Date()): string {
  const stamp = now.toISOString().slice(0, 19).replaceAll(':', '-');
  const safe =
    jobName
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 80) || 'job';
  return `${stamp}-${safe}`;
}

/**
 * Gets a submission's files where every worker can read them, choosing how (auto: direct when
 * the input is on shared storage, else Shaman when enabled, else a copy per job), and returns
 * what the job records: the mode, the paths in stored form, and what was hashed and sent.
 */
export async function prepareStorage(options: PrepareOptions): Promise<JobStorage> {
  const platform = platformOf();
  assertNotUncPath(options.input, 'input');
  for (const [i, dep] of options.deps.entries()) assertNotUncPath(dep, `deps[${i}]`);
  const input = resolve(options.input);
  const deps = options.deps.map((dep) => resolve(dep));
  for (const [path, field] of [[input, 'input'], ...deps.map((d, i) => [d, `deps[${i}]`])] as Array<[string, string]>) {
    if (!(await stat(path).catch(() => undefined))) throw new UserError(`${field} ${path} does not exist`, { field });
  }
  const storage = options.client.storage;
  const info = await storage.info(platform);
  const shared = info.sharedStoragePath ? resolve(info.sharedStoragePath) : undefined;
  const { variables } = info;
  const stored = (path: string): string => toStoredPath(path, platform, variables, 'users');

  // The folder the job's relative paths start from: the input's folder, widened to hold the deps.
  const inputRoot = (await stat(input)).isDirectory() ? input : dirname(input);
  let root = inputRoot;
  for (const dep of deps) while (!isInside(dep, root)) root = dirname(root);

  const inShared = shared !== undefined && [input, ...deps].every((path) => isInside(path, shared));
  let mode = options.mode;
  if (mode === 'auto') mode = inShared ? 'direct' : info.shaman.enabled ? 'shaman' : 'copy';
  if (!shared)
    throw new UserError('the manager has no shared storage (manager.shared_storage_path); set it to submit files', {
      field: 'storage',
    });
  if (mode === 'direct' && !inShared) {
    throw new UserError(
      `--storage direct needs the input on shared storage (${shared}); ${input} is not. Use --storage copy or shaman`,
      { field: 'storage' },
    );
  }
  if (mode === 'shaman' && !info.shaman.enabled)
    throw new UserError('--storage shaman: Shaman is not enabled on the manager (manager.shaman.enabled)', {
      field: 'storage',
    });

  if (mode === 'direct') {
    return { mode, input: stored(input), effectivePath: stored(root) };
  }
  // Shaman: the store is asked about what this tree held last time while the tree is listed (askEarly).
  const early = mode === 'shaman' ? startEarly(storage, options.home, root) : undefined;
  early?.catch(() => undefined); // awaited in sendFiles; a listing that fails first must not leave it unhandled
  const files = await filesOf(root, input, deps);
  // I/O priority: copies and uploads wait while a foreground application holds (this host or storage).
  const gate = await openIoGate(options.home, 'kiln submit');
  try {
    return await sendFiles({ ...options, mode, root, input, files, shared, stored, gate, early });
  } finally {
    gate.close();
  }
}

interface SendFiles extends PrepareOptions {
  mode: 'copy' | 'shaman';
  root: string;
  files: Array<{ path: string; size: number; mtimeMs: number }>;
  shared: string;
  stored: (path: string) => string;
  gate: IoGate;
  early: Promise<{ cache: HashCache; answers: EarlyAnswers }> | undefined;
}

/** Loads the hash cache and asks the store about the contents the files under `root` had last time. */
async function startEarly(
  storage: ApiClient['storage'],
  home: string,
  root: string,
): Promise<{ cache: HashCache; answers: EarlyAnswers }> {
  const cache = await HashCache.load(join(home, 'shaman-hash-cache.json'));
  return { cache, answers: await askEarly(storage, cache, root) };
}

/** Copy per job, or Shaman (hash, upload what is missing, check out). */
async function sendFiles(options: SendFiles): Promise<JobStorage> {
  const { mode, root, input, files, shared, stored, gate } = options;
  const storage = options.client.storage;
  const folder = jobFolderName(options.jobName);
  if (mode === 'copy') {
    const bytes = files.reduce((sum, f) => sum + f.size, 0);
    const target = join(shared, 'jobs', folder);
    await copyAtomically(
      root,
      files.map((f) => f.path),
      target,
      options.progress,
      bytes,
      gate,
    );
    return {
      mode,
      input: stored(join(target, relative(root, input))),
      effectivePath: stored(target),
      files: files.length,
      bytesHashed: 0,
      bytesUploaded: bytes,
    };
  }

  // Shaman: hash (with the cache), ask what is missing, upload only that, check out.
  const { cache, answers } = await (options.early ?? startEarly(storage, options.home, root));
  const toHash = files.reduce((sum, f) => sum + f.size, 0);
  options.progress?.start('hashing', toHash, 'bytes');
  let lastBytes = 0;
  const hashed = await hashFiles(files, {
    baseDir: root,
    cache,
    onProgress: (p) => {
      options.progress?.advance(p.bytesHashed - lastBytes);
      lastBytes = p.bytesHashed;
    },
  });
  options.progress?.stop();
  await cache.save();
  const missing = await missingFiles(storage, hashed.files, answers);
  const toUpload = missing.reduce((sum, f) => sum + f.size, 0);
  options.progress?.start('uploading', toUpload, 'bytes');
  const uploaded = await uploadFiles(storage, root, missing, {
    onUploaded: (n) => options.progress?.advance(n),
    gate,
  });
  options.progress?.stop();
  const checkout = await createShamanCheckout(storage, folder, hashed.files as HashedFile[]);
  const target = join(shared, 'jobs', ...checkout.checkoutPath.split('/'));
  return {
    mode,
    input: stored(join(target, relative(root, input))),
    effectivePath: stored(target),
    checkout: checkout.checkoutPath,
    files: hashed.files.length,
    bytesHashed: hashed.bytesHashed,
    bytesUploaded: uploaded,
  };
}

/** The files to send: everything under a folder input, the input file, and each dep (file or folder). */
async function filesOf(
  root: string,
  input: string,
  deps: string[],
): Promise<Array<{ path: string; size: number; mtimeMs: number }>> {
  const out = new Map<string, { path: string; size: number; mtimeMs: number }>();
  for (const path of [input, ...deps]) {
    const info = await stat(path);
    if (info.isDirectory()) {
      const listing = await listTree(path);
      for (const file of listing.files) {
        const rel = relative(root, join(path, file.path)).split(sep).join('/');
        out.set(rel, { ...file, path: rel });
      }
    } else {
      const rel = relative(root, path).split(sep).join('/');
      out.set(rel, { path: rel, size: info.size, mtimeMs: info.mtimeMs });
    }
  }
  return [...out.values()].sort((a, b) => a.path.localeCompare(b.path));
}

/** Copies into a hidden temp folder beside the target and renames it into place: no half job folder. */
async function copyAtomically(
  root: string,
  paths: string[],
  target: string,
  progress: ProgressReporter | undefined,
  bytes: number,
  gate: IoGate,
): Promise<void> {
  const temp = join(dirname(target), `.kiln-copy-${basename(target)}-${randomBytes(4).toString('hex')}`);
  progress?.start('copying', bytes, 'bytes');
  try {
    for (const path of paths) {
      const destination = join(temp, ...path.split('/'));
      await mkdir(dirname(destination), { recursive: true });
      await copyFileGated(join(root, ...path.split('/')), destination, { gate });
      progress?.advance((await stat(destination)).size);
    }
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  } finally {
    progress?.stop();
  }
}
