import { execFile } from 'node:child_process';
import { close as closeCallback, fsync as fsyncCallback, open as openCallback } from 'node:fs';
import { platform } from 'node:os';
import { mapCallbacks } from './limit.js';

/** fsyncs at once when a file system cannot be synced as a whole (the thread pool runs 4 at a time). */
const FSYNC_CONCURRENCY = 16;

interface SyncState {
  running?: Promise<boolean>;
  queued?: Promise<boolean>;
}

/** Per path: the syncfs running now, and the one queued behind it (shared by everyone who asks meanwhile). */
const states = new Map<string, SyncState>();
let syncfsWorks = platform() === 'linux';

/**
 * Makes everything written so far to the file system holding `path` durable, in one call:
 * syncfs(2) through coreutils `sync -f` (one call costs about what 300 fsyncs of small files
 * do here). Callers that ask while a sync runs share the next one, which starts after their
 * writes (group commit). Resolves false where syncfs is not available (not Linux, or no
 * coreutils); the caller then fsyncs its files and folders one by one.
 */
export function syncFileSystem(path: string): Promise<boolean> {
  if (!syncfsWorks) return Promise.resolve(false);
  const state = states.get(path) ?? {};
  states.set(path, state);
  const start = (): Promise<boolean> => {
    const run = runSyncfs(path).finally(() => {
      if (state.running === run) state.running = undefined;
      if (!state.running && !state.queued) states.delete(path);
    });
    state.running = run;
    return run;
  };
  if (!state.running) return start();
  // The running sync may have started before the caller's writes: wait for the next one.
  state.queued ??= state.running
    .catch(() => undefined)
    .then(() => {
      state.queued = undefined;
      return start();
    });
  return state.queued;
}

function runSyncfs(path: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    execFile('sync', ['-f', path], (error) => {
      if (!error) return resolve(true);
      // No `sync` binary, or one without -f (busybox, BSD): fall back to fsync, from now on.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' || /invalid|unrecognized|usage/i.test(String(error))) {
        syncfsWorks = false;
        return resolve(false);
      }
      reject(new Error(`sync -f ${path} failed: ${error.message}`, { cause: error }));
    });
  });
}

/** fsyncs files or folders (opened read-only), many at once so their journal commits are shared. */
export async function fsyncAll(paths: readonly string[]): Promise<void> {
  await mapCallbacks<string, void>(paths, FSYNC_CONCURRENCY, (path, _, done) =>
    openCallback(path, 'r', (openError, fd) => {
      if (openError) return done(openError);
      fsyncCallback(fd, (syncError) => closeCallback(fd, () => done(syncError)));
    }),
  );
}
