/**
 * Network namespaces for tests that send multicast: each test builds its own hosts (namespaces)
 * joined by veth pairs, runs node scripts inside them with `ip netns exec`, and removes all of it
 * when it ends, failed or not. Multicast then never reaches the real host's interfaces.
 *
 *   const lab = await createLab(t);                 // skip first: netnsSkipReason()
 *   const [a, b] = await lab.segment(['a', 'b']);   // one link, 10.77.1.1 and 10.77.1.2
 *   const peer = lab.spawn(a, ['dist/...js', ...]); await peer.waitForLine(/ready/);
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';

export function netnsSkipReason(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'network namespaces need root (run the tests as root)';
  const ip = spawnSync('ip', ['-V'], { encoding: 'utf8' });
  if (ip.error) return 'the `ip` command (iproute2) is missing';
  return undefined;
}

/** Runs `ip ARGS...`; throws with its stderr when it fails. */
export function ip(...args: string[]): string {
  const result = spawnSync('ip', args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`ip ${args.join(' ')}: ${result.stderr.trim() || result.error}`);
  return result.stdout;
}

interface LabProcess {
  child: ChildProcess;
  output(): string;
  lines(): string[];
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Waits for the exit (with the exit code; null when a signal ended it). */
  exited(): Promise<number | null>;
}

export interface Host {
  ns: string;
  /** Its address on each link it was given, in order. */
  addresses: string[];
  /** Its veth device on each link, in order. */
  devices: string[];
}

export interface Lab {
  /** A fresh namespace with loopback up (and multicast on, with a multicast route when `loopbackOnly`). */
  host(name: string): Host;
  /** Joins two hosts with a veth pair on subnet 10.77.<subnet>.0/24; returns their addresses. */
  link(a: Host, b: Host, subnet: number, ends?: [number, number]): void;
  /** Hosts on one segment (a line of links through the first host is enough for two). */
  segment(names: string[]): Host[];
  exec(host: Host, args: string[]): { status: number | null; stdout: string; stderr: string };
  spawn(host: Host, args: string[], env?: NodeJS.ProcessEnv): LabProcess;
  /** A long-lived helper process (a multicast router daemon) ended at clean-up. */
  adopt(child: ChildProcess): void;
  cleanup(): void;
}

export function createLab(t: { after: (fn: () => unknown) => void }): Lab {
  const prefix = `k${randomBytes(3).toString('hex')}`;
  const namespaces: string[] = [];
  const children: ChildProcess[] = [];
  let devices = 0;
  const cleanup = (): void => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const ns of namespaces.splice(0)) spawnSync('ip', ['netns', 'del', ns]);
  };
  // A test runner killed outright still removes what it made.
  process.once('exit', cleanup);
  t.after(cleanup);
  const lab: Lab = {
    host(name) {
      const ns = `${prefix}-${name}`;
      ip('netns', 'add', ns);
      namespaces.push(ns);
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      return { ns, addresses: [], devices: [] };
    },
    link(a, b, subnet, ends = [1, 2]) {
      const devA = `${prefix}v${devices++}`;
      const devB = `${prefix}v${devices++}`;
      ip('link', 'add', devA, 'netns', a.ns, 'type', 'veth', 'peer', 'name', devB, 'netns', b.ns);
      for (const [host, dev, end] of [
        [a, devA, ends[0]],
        [b, devB, ends[1]],
      ] as const) {
        const address = `10.77.${subnet}.${end}`;
        ip('-n', host.ns, 'addr', 'add', `${address}/24`, 'dev', dev);
        ip('-n', host.ns, 'link', 'set', dev, 'up');
        host.addresses.push(address);
        host.devices.push(dev);
      }
    },
    segment(names) {
      const hosts = names.map((name) => lab.host(name));
      const [first, ...rest] = hosts;
      if (!first) return hosts;
      // A star of point-to-point links is no segment for multicast: use a bridge host instead.
      if (rest.length === 1 && rest[0]) {
        lab.link(first, rest[0], 1);
        for (const host of hosts) ip('-n', host.ns, 'route', 'add', '224.0.0.0/4', 'dev', host.devices[0] ?? '');
        return hosts;
      }
      const bridge = lab.host('br');
      ip('-n', bridge.ns, 'link', 'add', 'br0', 'type', 'bridge');
      ip('-n', bridge.ns, 'link', 'set', 'br0', 'up');
      hosts.forEach((host, index) => {
        lab.link(host, bridge, 1, [index + 1, 200 + index]);
        const port = bridge.devices[index] ?? '';
        ip('-n', bridge.ns, 'addr', 'flush', 'dev', port);
        ip('-n', bridge.ns, 'link', 'set', port, 'master', 'br0');
        ip('-n', host.ns, 'route', 'add', '224.0.0.0/4', 'dev', host.devices[0] ?? '');
      });
      return hosts;
    },
    exec(host, args) {
      const result = spawnSync('ip', ['netns', 'exec', host.ns, ...args], { encoding: 'utf8', timeout: 60_000 });
      return { status: result.status, stdout: result.stdout, stderr: result.stderr };
    },
    spawn(host, args, env = {}) {
      const child = spawn('ip', ['netns', 'exec', host.ns, process.execPath, ...args], {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      return labProcess(child);
    },
    adopt(child) {
      children.push(child);
    },
    cleanup,
  };
  return lab;
}

function labProcess(child: ChildProcess): LabProcess {
  let text = '';
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    text += chunk.toString('utf8');
    for (const waiter of waiters) waiter();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.once('exit', () => {
    for (const waiter of waiters) waiter();
  });
  const lines = (): string[] => text.split('\n').filter(Boolean);
  return {
    child,
    output: () => text,
    lines,
    exited: () => exit,
    waitForLine: (pattern, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const found = lines().find((line) => pattern.test(line));
          if (found !== undefined) finish(() => resolve(found));
          else if (child.exitCode !== null || child.signalCode !== null)
            finish(() => reject(new Error(`process exited before printing ${pattern}:\n${text}`)));
        };
        const timer = setTimeout(
          () => finish(() => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms:\n${text}`))),
          timeoutMs,
        );
        const finish = (settle: () => void): void => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        waiters.add(check);
        check();
      }),
  };
}

/** Where compiled scripts are, for `lab.spawn` (dist/src/...). */
export function distScript(relative: string): string {
  const path = new URL(`../${relative}`, import.meta.url).pathname;
  if (!existsSync(path)) throw new Error(`${path} is missing: run npm run build`);
  return path;
}
