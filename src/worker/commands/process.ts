/**
 * Running one child process for a command: argv without a shell, output split into lines as it
 * arrives, and a stop that always finishes promptly: SIGTERM to the process group, SIGKILL after
 * the grace period, and the promise settles even if the process never reports its end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { LineSplitter } from '../../media/lines.js';
import { isWindows } from '../../util/platform.js';
import type { ProcessGroupTracker } from '../process-groups.js';
import { CommandAbortedError, CommandError, passIoGate, throwIfAborted, type CommandIo } from './types.js';

/** A longer line is cut (one runaway line must not fill the manager's log). */
const MAX_LINE_LENGTH = 8000;
/** After the process exits, how long its output pipes may stay open (a grandchild holding them). */
const PIPE_DRAIN_MS = 1000;
/** After SIGKILL, how long to wait for the exit before giving up on it. */
const KILL_WAIT_MS = 1000;

export interface RunProcessOptions {
  argv: readonly string[];
  cwd?: string | undefined;
  /** Added to the worker's environment. */
  env?: Record<string, string> | undefined;
  signal: AbortSignal;
  killGraceMs: number;
  onLine: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Where the running program's process group is recorded, so it cannot outlive the worker unnoticed. */
  processGroups: ProcessGroupTracker;
  /** I/O priority: the program starts once the gate is open and its group is stopped while a hold is on. */
  io?: CommandIo | undefined;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const GROUP_KILL = !isWindows();

/**
 * Runs the program until it exits; resolves with how it ended (non-zero codes included: the
 * caller decides). Rejects with CommandError when it cannot start, CommandAbortedError when the
 * signal stopped it.
 */
export async function runProcess(options: RunProcessOptions): Promise<ProcessExit> {
  throwIfAborted(options.signal);
  const [program, ...args] = options.argv;
  if (program === undefined || program === '') throw new CommandError('no program to run (empty argv)');
  if (options.io) await passIoGate({ io: options.io, signal: options.signal });
  return startProcess(program, args, options);
}

function startProcess(program: string, args: string[], options: RunProcessOptions): Promise<ProcessExit> {
  return new Promise<ProcessExit>((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(program, args, {
        cwd: options.cwd,
        env: options.env ? { ...process.env, ...options.env } : process.env,
        stdio: ['ignore', 'pipe', 'pipe'],
        shell: false,
        windowsHide: true,
        // Its own process group, so a stop reaches whatever it started too.
        detached: GROUP_KILL,
      });
    } catch (error) {
      reject(new CommandError(`cannot run ${program}: ${(error as Error).message}`));
      return;
    }
    // Recorded at once (synchronously), before anything else can happen in this process.
    const untrack =
      GROUP_KILL && child.pid !== undefined ? options.processGroups.track(child.pid, program) : () => undefined;
    // SIGSTOP/SIGCONT of its group while a foreground application holds the storage.
    const unpause =
      GROUP_KILL && child.pid !== undefined && options.io ? options.io.pauseProcessGroup(child.pid) : () => undefined;

    const emit = (stream: 'stdout' | 'stderr') => (line: string) =>
      options.onLine(line.length > MAX_LINE_LENGTH ? `${line.slice(0, MAX_LINE_LENGTH)}… (line cut)` : line, stream);
    const out = new LineSplitter(emit('stdout'));
    const err = new LineSplitter(emit('stderr'));
    child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => err.push(chunk));

    let settled = false;
    let exit: ProcessExit | undefined;
    const timers: NodeJS.Timeout[] = [];
    const finish = (outcome: { exit: ProcessExit } | { error: Error }, gaveUp = false): void => {
      if (settled) return;
      settled = true;
      unpause();
      // A group that would not die stays recorded, for the next start to end.
      if (!gaveUp) untrack();
      for (const timer of timers) clearTimeout(timer);
      options.signal.removeEventListener('abort', onAbort);
      out.end();
      err.end();
      if ('error' in outcome) reject(outcome.error);
      else if (options.signal.aborted) reject(new CommandAbortedError(options.signal.reason));
      else resolve(outcome.exit);
    };

    const kill = (signal: NodeJS.Signals): void => {
      if (child.pid === undefined) return;
      try {
        if (GROUP_KILL) process.kill(-child.pid, signal);
        else child.kill(signal);
      } catch {
        // Gone already (ESRCH), or the group leader gone: try the child itself.
        try {
          child.kill(signal);
        } catch {
          // Nothing left to stop.
        }
      }
    };

    function onAbort(): void {
      kill('SIGTERM');
      // A program stopped for I/O priority must run again to see its SIGTERM.
      unpause();
      timers.push(
        setTimeout(() => {
          kill('SIGKILL');
          timers.push(
            setTimeout(() => finish({ error: new CommandAbortedError(options.signal.reason) }, true), KILL_WAIT_MS),
          );
        }, options.killGraceMs),
      );
    }
    options.signal.addEventListener('abort', onAbort, { once: true });

    child.once('error', (error: NodeJS.ErrnoException) => {
      if (exit) return;
      const reason =
        error.code === 'ENOENT'
          ? `program not found: ${program}`
          : error.code === 'EACCES'
            ? `program not executable: ${program}`
            : `cannot run ${program}: ${error.message}`;
      finish({ error: new CommandError(reason) });
    });
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      // Output may still be in the pipes; 'close' says it is all read.
      timers.push(
        setTimeout(() => {
          child.stdout?.destroy();
          child.stderr?.destroy();
          finish({ exit: { code, signal } });
        }, PIPE_DRAIN_MS),
      );
      // After a stop, whatever it started goes too.
      if (options.signal.aborted) kill('SIGKILL');
    });
    child.once('close', (code, signal) => finish({ exit: exit ?? { code, signal } }));
  });
}

/** "exited with code 3", "was killed by SIGSEGV". */
export function describeExit(exit: ProcessExit): string {
  if (exit.signal) return `was killed by ${exit.signal}`;
  return `exited with code ${exit.code ?? 'unknown'}`;
}

/** Runs a program and fails the command unless it exits with code 0. */
export async function runProgram(name: string, options: RunProcessOptions): Promise<void> {
  const exit = await runProcess(options);
  if (exit.code !== 0) throw new CommandError(`${name} ${describeExit(exit)}`);
}
