/**
 * The worker's task programs must never outlive it unnoticed. Each runs in its own process group;
 * while it runs, its group (pgid and the leader's start time) is recorded in
 * `<home>/worker-processes.json`. A worker killed outright (SIGKILL) cannot stop them, so the next
 * worker on that home ends every recorded group still alive before it signs on: the task it gets
 * back then never runs beside an orphaned copy of itself.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { UserError, isErrnoException } from '../util/errors.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { SECOND } from '../util/time.js';
import { HAS_PROC, processGroupMembers, processStartTime } from './proc-stat.js';

export const PROCESS_RECORD_FILE = 'worker-processes.json';

export interface ProcessGroupRecord {
  /** The group's id: the pid of the program the worker started (its leader). */
  pgid: number;
  /** The leader's start time (from /proc), so a reused pid is never taken for it. */
  startTime?: string | undefined;
  program: string;
}

/** What runProcess needs: note a started group, and forget it once it has ended. */
export interface ProcessGroupTracker {
  /** Records the group led by `pid`; the returned function forgets it. */
  track(pid: number, program: string): () => void;
}

/** Keeps the record file of one worker: the groups of the programs it runs right now. */
export class ProcessGroupRecords implements ProcessGroupTracker {
  readonly #path: string;
  readonly #running = new Map<number, ProcessGroupRecord>();

  readonly #logger: Logger;

  constructor(home: string, logger: Logger) {
    this.#path = join(home, PROCESS_RECORD_FILE);
    this.#logger = logger;
  }

  get path(): string {
    return this.#path;
  }

  track(pid: number, program: string): () => void {
    this.#running.set(pid, { pgid: pid, startTime: processStartTime(pid), program });
    // Written before the caller goes on, so no moment passes with the program unrecorded.
    this.#write();
    return () => {
      if (this.#running.delete(pid)) this.#write();
    };
  }

  /**
   * SIGKILL to every group still recorded: for a worker leaving without its usual clean-up
   * (an uncaught error, a second signal). Synchronous, so it can run in an 'exit' handler.
   */
  killAllNow(): void {
    for (const record of this.#running.values()) signalGroup(record.pgid, 'SIGKILL');
    this.#running.clear();
    this.#write();
  }

  /** Written whole to a temp file and renamed over, so a reader never sees half a record. */
  #write(): void {
    try {
      if (this.#running.size === 0) {
        rmSync(this.#path, { force: true });
        return;
      }
      mkdirSync(dirname(this.#path), { recursive: true });
      const temp = `${this.#path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      writeFileSync(temp, `${JSON.stringify([...this.#running.values()], null, 2)}\n`);
      renameSync(temp, this.#path);
    } catch (error) {
      // Not fatal to the task; but the next start could not end this program, so say so loudly.
      this.#logger.error(
        { path: this.#path, reason: (error as Error).message },
        'cannot record the running programs; a crash now could leave them running',
      );
    }
  }
}

export interface EndLeftoversOptions {
  /** After SIGTERM, how long the group gets before SIGKILL. */
  termGraceMs?: number;
  /** After SIGKILL, how long to wait for the group to be gone before giving up. */
  killWaitMs?: number;
}

/**
 * Ends every group recorded by an earlier run of the worker on this home that still runs:
 * SIGTERM, then SIGKILL after a grace period, and waits until none of its processes is left.
 * Then clears the record. Throws a UserError when a group will not go, since starting would risk
 * running its task twice.
 */
export async function endLeftoverProcessGroups(
  home: string,
  logger: Logger,
  options: EndLeftoversOptions = {},
): Promise<number> {
  const path = join(home, PROCESS_RECORD_FILE);
  const records = readRecords(path, logger);
  let ended = 0;
  for (const record of records) {
    if (!isRecordedGroupAlive(record)) continue;
    logger.warn(
      { pgid: record.pgid, program: record.program },
      'ending a task program left running by an earlier run of this worker',
    );
    signalGroup(record.pgid, 'SIGTERM');
    // A program stopped for I/O priority when its worker died must run again to see the SIGTERM.
    signalGroup(record.pgid, 'SIGCONT');
    if (!(await untilGroupGone(record.pgid, options.termGraceMs ?? 5 * SECOND))) {
      signalGroup(record.pgid, 'SIGKILL');
      if (!(await untilGroupGone(record.pgid, options.killWaitMs ?? 10 * SECOND))) {
        throw new UserError(
          `a task program left by an earlier run of this worker (process group ${record.pgid}, ${record.program}) does not end; stop it before starting the worker`,
          { code: 'leftover_process' },
        );
      }
    }
    ended++;
  }
  rmSync(path, { force: true });
  return ended;
}

/**
 * Whether the recorded group still has processes. Its leader may have exited while programs it
 * started live on; a pid is not handed out again while it is still some group's id, so live
 * members with that pgid are ours, unless the pid now leads a new process (another start time).
 */
function isRecordedGroupAlive(record: ProcessGroupRecord): boolean {
  if (!HAS_PROC) return false; // no process table to tell a reused pid from ours: leave it alone
  const leaderStart = processStartTime(record.pgid);
  if (leaderStart !== undefined && record.startTime !== undefined && leaderStart !== record.startTime) return false;
  return processGroupMembers(record.pgid).length > 0;
}

async function untilGroupGone(pgid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (processGroupMembers(pgid).length === 0) return true;
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // The group is gone already.
  }
}

function readRecords(path: string, logger: Logger): ProcessGroupRecord[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (isErrnoException(error, 'ENOENT')) return [];
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (!Array.isArray(parsed)) throw new Error('not a list');
    return parsed.filter(
      (entry): entry is ProcessGroupRecord =>
        typeof entry === 'object' && entry !== null && Number.isInteger(entry.pgid) && entry.pgid > 1,
    );
  } catch (error) {
    logger.warn({ path, reason: (error as Error).message }, 'the record of running programs is damaged; ignoring it');
    return [];
  }
}
