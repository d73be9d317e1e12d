/**
 * Network namespaces for DNS-SD tests: a segment of two "hosts" (namespaces joined by a veth
 * pair, each with a multicast route), so mDNS never touches the machine's own interfaces.
 * Names are unique per process and call, so test files may run side by side; everything made
 * is removed when the test ends, pass or fail. (The self-discovery branch has its own
 * src/testing/netns.ts; the two are to be unified.)
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

type After = { after: (fn: () => unknown) => void };

/**
 * Discovery on for what a test starts inside its namespaces (the test runner's environment turns
 * it off everywhere else): multicast self-discovery and DNS-SD, in the CLI, workers and managers.
 */
export const NAMESPACED_DISCOVERY_ENV: Readonly<NodeJS.ProcessEnv> = Object.freeze({
  KILN_SELF_DISCOVERY: 'on',
  KILN_DNS_SD: 'on',
  KILN_MANAGER_DISCOVERY_ENABLED: 'true',
  KILN_MANAGER_DISCOVERY_DNS_SD: 'true',
});

/** Why namespaced tests cannot run here, or undefined when they can. */
export function netnsSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces';
  if (!existsSync('/usr/sbin/ip') && !existsSync('/sbin/ip') && !existsSync('/bin/ip'))
    return 'needs the `ip` command (iproute2)';
  return undefined;
}

export interface NsHost {
  ns: string;
  address: string;
  veth: string;
  /** Starts a program inside the namespace; it is killed when the test ends. */
  spawn: (command: string, args: string[], env?: NodeJS.ProcessEnv) => NsProcess;
  /** Runs a command inside the namespace to its end (throws on failure). */
  run: (command: string, args: string[]) => string;
}

export interface NsProcess {
  child: ChildProcess;
  output: () => string;
  /** Resolves when the output matches (rejects after timeoutMs or when the process ends first). */
  waitFor: (pattern: RegExp, timeoutMs: number) => Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

function namespacePids(ns: string): number[] {
  const listed = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout ?? '';
  return listed
    .split(/\s+/)
    .filter(Boolean)
    .map(Number)
    .filter((pid) => Number.isInteger(pid) && pid > 1);
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Two namespaces on one segment: a at 10.77.0.1/24, b at 10.77.0.2/24, multicast routed on the veth. */
export function makeSegment(t: After): { a: NsHost; b: NsHost } {
  const tag = `${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
  const processes: NsProcess[] = [];
  const names = { a: `kdns-${tag}-a`, b: `kdns-${tag}-b` };
  const veths = { a: `kda${tag}`.slice(0, 15), b: `kdb${tag}`.slice(0, 15) };
  t.after(async () => {
    // SIGTERM first: a manager stops the database it started (a SIGKILL would leave it running).
    for (const proc of processes) if (proc.child.exitCode === null) proc.child.kill('SIGTERM');
    const grace = new Promise((resolvePromise) => setTimeout(resolvePromise, 5000).unref());
    await Promise.race([Promise.all(processes.map((proc) => proc.exited)), grace]);
    for (const proc of processes) if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
    for (const ns of Object.values(names)) {
      // Whatever our processes left inside (a database server) goes with its namespace.
      for (const pid of namespacePids(ns)) spawnSync('kill', ['-KILL', String(pid)], { stdio: 'ignore' });
      spawnSync('ip', ['netns', 'delete', ns], { stdio: 'ignore' });
    }
  });
  ip('netns', 'add', names.a);
  ip('netns', 'add', names.b);
  ip('link', 'add', veths.a, 'netns', names.a, 'type', 'veth', 'peer', 'name', veths.b, 'netns', names.b);
  const host = (key: 'a' | 'b', address: string): NsHost => {
    const ns = names[key];
    const veth = veths[key];
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', veth);
    ip('-n', ns, 'link', 'set', veth, 'up');
    ip('-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', veth);
    return {
      ns,
      address,
      veth,
      spawn: (command, args, env = {}) => {
        const proc = spawnInNamespace(ns, command, args, env);
        processes.push(proc);
        return proc;
      },
      run: (command, args) => execFileSync('ip', ['netns', 'exec', ns, command, ...args], { encoding: 'utf8' }),
    };
  };
  return { a: host('a', '10.77.0.1'), b: host('b', '10.77.0.2') };
}

function spawnInNamespace(ns: string, command: string, args: string[], env: NodeJS.ProcessEnv): NsProcess {
  const child = spawn('ip', ['netns', 'exec', ns, command, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    output += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolvePromise) => child.once('exit', (code) => resolvePromise(code)));
  const waitFor = (pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> =>
    new Promise((resolvePromise, reject) => {
      const check = (): void => {
        const match = pattern.exec(output);
        if (!match) return;
        done();
        resolvePromise(match);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${pattern} within ${timeoutMs} ms in ${ns}; output:\n${output}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      void exited.then(() => {
        if (!listeners.has(check)) return;
        check();
        if (listeners.has(check)) {
          done();
          reject(new Error(`${command} ended before ${pattern} in ${ns}; output:\n${output}`));
        }
      });
      check();
    });
  return { child, output: () => output, waitFor, exited };
}

/** Resolves when the file's text matches (a detached program's log); rejects after timeoutMs. */
export async function waitForFile(file: string, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  let text = '';
  for (;;) {
    text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const match = pattern.exec(text);
    if (match) return match;
    if (Date.now() > deadline) throw new Error(`no ${pattern} in ${file} within ${timeoutMs} ms:\n${text}`);
    await new Promise((resolvePromise) => setTimeout(resolvePromise, 100));
  }
}

/** The database announcer's log under a home's default cluster (src/db/announcer.ts). */
const announcerLog = (home: string): string => join(home, 'db', 'kiln-announcer.log');

/** A manager with its embedded database, both announced (the manager itself, and the announcer). */
export async function waitForManagerAndDatabase(manager: NsProcess, home: string): Promise<void> {
  await manager.waitFor(/"kind":"manager".*registered over DNS-SD/, 60_000);
  await waitForFile(announcerLog(home), /"kind":"database".*registered over DNS-SD/, 30_000);
}
