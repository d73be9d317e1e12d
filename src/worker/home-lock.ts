/**
 * One worker per Kiln home: the home holds one identity (credentials, update queue, records of
 * running programs), and two workers sharing it would both take tasks as the same worker.
 * `<home>/worker.lock` names the holder by pid and process start time; a lock whose holder is
 * gone (or whose pid now belongs to another process) is stale and taken over.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError, isErrnoException } from '../util/errors.js';
import { isProcessAlive, processStartTime } from './proc-stat.js';

export const HOME_LOCK_FILE = 'worker.lock';

interface LockHolder {
  pid: number;
  startTime?: string | undefined;
}

export interface HomeLock {
  readonly path: string;
  /** Removes the lock if it is still this process's; safe to call more than once. */
  release(): void;
}

/** Takes the home's lock, or throws a UserError naming the worker that holds it. */
export function acquireHomeLock(home: string): HomeLock {
  mkdirSync(home, { recursive: true });
  const path = join(home, HOME_LOCK_FILE);
  const me: LockHolder = { pid: process.pid, startTime: processStartTime(process.pid) };
  const content = `${JSON.stringify(me)}\n`;
  // Attempts only repeat when another starter changed the file between two looks at it.
  for (let attempt = 0; attempt < 20; attempt++) {
    if (tryCreate(path, content)) return heldLock(path, content);
    const seen = readLock(path);
    if (seen === undefined) continue; // removed meanwhile: try again
    const holder = parseHolder(seen);
    if (holder && isProcessAlive(holder.pid, holder.startTime)) {
      throw new UserError(`another kiln worker (pid ${holder.pid}) is already running with home ${home}`, {
        code: 'home_locked',
      });
    }
    takeOverStale(path, seen);
  }
  throw new UserError(`could not take the lock ${path}: other workers keep changing it`, { code: 'home_locked' });
}

/**
 * Creates the lock with its whole content at once: written to a private file, then hard-linked
 * into place, which fails if the lock exists (so nobody ever reads a half-written lock).
 */
function tryCreate(path: string, content: string): boolean {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(temp, content, { flag: 'wx' });
  try {
    linkSync(temp, path);
    return true;
  } catch (error) {
    if (isErrnoException(error, 'EEXIST')) return false;
    throw error;
  } finally {
    unlinkSync(temp);
  }
}

/**
 * Moves the stale lock aside. If what was moved is not the stale lock judged (another starter
 * took the lock in between), it is put back for its owner.
 */
function takeOverStale(path: string, staleContent: string): void {
  const aside = `${path}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    renameSync(path, aside);
  } catch (error) {
    if (isErrnoException(error, 'ENOENT')) return;
    throw error;
  }
  const moved = readLock(aside);
  if (moved !== staleContent) {
    try {
      linkSync(aside, path);
    } catch {
      // Yet another starter holds it now; it stays theirs.
    }
  }
  unlinkSync(aside);
}

function heldLock(path: string, content: string): HomeLock {
  let released = false;
  return {
    path,
    release() {
      if (released) return;
      released = true;
      // Only our own lock: a lock taken over after ours was judged stale is someone else's.
      if (readLock(path) === content) {
        try {
          unlinkSync(path);
        } catch {
          // gone already
        }
      }
    },
  };
}

function readLock(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if (isErrnoException(error, 'ENOENT')) return undefined;
    throw error;
  }
}

/** The holder a lock names; undefined for a damaged file (which counts as stale). */
function parseHolder(content: string): LockHolder | undefined {
  try {
    const parsed = JSON.parse(content) as Partial<LockHolder>;
    if (typeof parsed.pid !== 'number' || !Number.isInteger(parsed.pid) || parsed.pid <= 0) return undefined;
    return { pid: parsed.pid, startTime: typeof parsed.startTime === 'string' ? parsed.startTime : undefined };
  } catch {
    return undefined;
  }
}
