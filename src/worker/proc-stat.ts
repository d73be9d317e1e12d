/**
 * What the process table says about a process, read from Linux's /proc: whether it lives, when it
 * started (so a reused pid is not mistaken for the process once recorded), and which processes
 * belong to a process group. Where there is no /proc, answers are "unknown" and callers decide.
 */
import { readFileSync, readdirSync } from 'node:fs';

export const HAS_PROC = (() => {
  try {
    readFileSync('/proc/self/stat', 'utf8');
    return true;
  } catch {
    return false;
  }
})();

interface ProcStat {
  pid: number;
  /** One letter: R, S, D, Z (zombie), T... */
  state: string;
  ppid: number;
  pgrp: number;
  /** Clock ticks after boot (field 22): with the pid, it names one process for good. */
  startTime: string;
}

/** The stat line of one process; undefined when it does not exist (or /proc is missing). */
function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces and ')': fields follow the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so field N is fields[N - 3].
  const [state, ppid, pgrp] = [fields[0], fields[1], fields[2]];
  const startTime = fields[19];
  if (!state || !ppid || !pgrp || !startTime) return undefined;
  return { pid, state, ppid: Number(ppid), pgrp: Number(pgrp), startTime };
}

/** A process's start time; undefined when it is gone (a zombie counts as gone) or unknown. */
export function processStartTime(pid: number): string | undefined {
  const stat = readProcStat(pid);
  return stat && stat.state !== 'Z' ? stat.startTime : undefined;
}

/** Whether the process runs. Without /proc, a signal 0 answers (no start time check possible). */
export function isProcessAlive(pid: number, startTime?: string): boolean {
  if (HAS_PROC) {
    const now = processStartTime(pid);
    return now !== undefined && (startTime === undefined || now === startTime);
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Every live (non-zombie) process in the table; empty without /proc. */
function listProcesses(): ProcStat[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const found: ProcStat[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProcStat(Number(entry));
    if (stat && stat.state !== 'Z') found.push(stat);
  }
  return found;
}

/** Pids of the live processes of a process group. */
export function processGroupMembers(pgid: number): number[] {
  return listProcesses()
    .filter((stat) => stat.pgrp === pgid)
    .map((stat) => stat.pid);
}
