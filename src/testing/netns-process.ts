/**
 * The handle tests hold on a program started inside a network namespace (src/testing/netns.ts):
 * its output so far, waits for a line or a pattern in it, and its exit.
 */
import type { ChildProcess } from 'node:child_process';

export interface NsProcess {
  child: ChildProcess;
  /** stdout and stderr so far, interleaved as they arrived. */
  output: () => string;
  /** The non-empty lines of output(). */
  lines: () => string[];
  /** The first line matching `pattern` (rejects after timeoutMs or when the process ends first). */
  waitForLine: (pattern: RegExp, timeoutMs?: number) => Promise<string>;
  /** The first match of `pattern` in the whole output (it may span lines); rejects as waitForLine. */
  waitFor: (pattern: RegExp, timeoutMs?: number) => Promise<RegExpMatchArray>;
  /** The exit code, or null when a signal ended it. */
  exited: Promise<number | null>;
}

const DEFAULT_WAIT_MS = 10_000;

export function running(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Wraps a child started with stdout and stderr piped; `where` names it in errors (its namespace). */
export function watchProcess(child: ChildProcess, where: string): NsProcess {
  let text = '';
  const checks = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    text += chunk.toString('utf8');
    for (const check of checks) check();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const lines = (): string[] => text.split('\n').filter(Boolean);

  /** Resolves with what `find` returns once it returns something; rejects on timeout or exit. */
  const waitUntil = <T>(find: () => T | undefined | null, pattern: RegExp, timeoutMs: number): Promise<T> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => finish(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms in ${where}; output:\n${text}`))),
        timeoutMs,
      );
      const finish = (settle: () => void): void => {
        clearTimeout(timer);
        checks.delete(check);
        settle();
      };
      const check = (): void => {
        const found = find();
        if (found !== undefined && found !== null) finish(() => resolve(found));
        else if (!running(child))
          finish(() => reject(new Error(`the process ended before ${pattern} in ${where}; output:\n${text}`)));
      };
      checks.add(check);
      void exited.then(() => checks.has(check) && check());
      check();
    });

  return {
    child,
    output: () => text,
    lines,
    exited,
    waitForLine: (pattern, timeoutMs = DEFAULT_WAIT_MS) =>
      waitUntil(() => lines().find((line) => pattern.test(line)), pattern, timeoutMs),
    waitFor: (pattern, timeoutMs = DEFAULT_WAIT_MS) => waitUntil(() => pattern.exec(text), pattern, timeoutMs),
  };
}
