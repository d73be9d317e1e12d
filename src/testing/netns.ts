/**
 * Network namespaces for tests that send multicast (self-discovery, DNS-SD): each test builds its
 * own hosts (namespaces) joined by veth pairs, runs programs inside them with `ip netns exec`, and
 * removes all of it when it ends, failed or not. Multicast then never reaches the real host's
 * interfaces. Names are unique per process and call, so test files may run side by side.
 *
 *   const lab = createLab(t);                       // skip first: netnsSkipReason()
 *   const [a, b] = lab.segment(['a', 'b']);         // one link, 10.77.1.1 and 10.77.1.2
 *   const peer = a.spawn(process.execPath, ['dist/...js']); await peer.waitForLine(/ready/);
 *   const { a, b } = makeSegment(t);                // the same for two hosts, 10.77.0.1 and .2
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { running, watchProcess, type NsProcess } from './netns-process.js';

export type { NsProcess } from './netns-process.js';

type After = { after: (fn: () => unknown) => void };

/** How long programs get after SIGTERM (a manager stops the database it started) before SIGKILL. */
const GRACE_MS = 5000;
/** Linux's limit on an interface name (IFNAMSIZ - 1). */
const MAX_DEVICE_NAME = 15;

export function netnsSkipReason(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'network namespaces need root (run the tests as root)';
  const ip = spawnSync('ip', ['-V'], { encoding: 'utf8' });
  if (ip.error) return 'the `ip` command (iproute2) is missing';
  return undefined;
}

/** Runs `ip ARGS...`; throws with its stderr when it fails. */
function ip(...args: string[]): string {
  const result = spawnSync('ip', args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`ip ${args.join(' ')}: ${result.stderr.trim() || result.error}`);
  return result.stdout;
}

export interface Host {
  ns: string;
  /** Its address on each link it was given, in order. */
  addresses: string[];
  /** Its veth device on each link, in order. */
  devices: string[];
  /** Starts a program inside the namespace; it is stopped when the test ends. */
  spawn: (command: string, args: string[], env?: NodeJS.ProcessEnv) => NsProcess;
  /** Runs a program inside the namespace to its end (two minutes at most). */
  exec: (command: string, args: string[]) => { status: number | null; stdout: string; stderr: string };
  /** As exec, but returns its stdout and throws (with its stderr) when it fails. */
  run: (command: string, args: string[]) => string;
}

export interface Lab {
  /** A fresh namespace with loopback up. */
  host(name: string): Host;
  /** Joins two hosts with a veth pair on subnet 10.77.<subnet>.0/24, at .<ends[0]> and .<ends[1]>. */
  link(a: Host, b: Host, subnet: number, ends?: [number, number]): void;
  /** Hosts on one segment 10.77.<subnet>.0/24 (.1, .2, ...), each with a multicast route on it. */
  segment(names: string[], subnet?: number): Host[];
}

/** Each live lab's last-resort clean-up, for a test process that exits before its after-hooks ran. */
const liveLabs = new Set<() => void>();
let exitHookInstalled = false;

function namespacePids(ns: string): number[] {
  const listed = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout ?? '';
  return listed
    .split(/\s+/)
    .filter(Boolean)
    .map(Number)
    .filter((pid) => Number.isInteger(pid) && pid > 1);
}

/** Kills whatever is still inside (a database a manager started), then deletes the namespace. */
function deleteNamespace(ns: string): void {
  for (const pid of namespacePids(ns)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  spawnSync('ip', ['netns', 'delete', ns], { stdio: 'ignore' });
}

/** Unique per process and call; short, since device names are `<prefix>v<n>` (15 characters at most). */
let labCount = 0;
function labPrefix(): string {
  return `k${process.pid.toString(36)}${(labCount++).toString(36)}${randomBytes(1).toString('hex')}`;
}

export function createLab(t: After): Lab {
  const prefix = labPrefix();
  const namespaces: string[] = [];
  const children: ChildProcess[] = [];
  let devices = 0;
  const killNow = (): void => {
    for (const child of children.splice(0)) if (running(child)) child.kill('SIGKILL');
    for (const ns of namespaces.splice(0)) deleteNamespace(ns);
  };
  liveLabs.add(killNow);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const cleanup of liveLabs) cleanup();
    });
  }
  t.after(async () => {
    // SIGTERM first: a manager stops the database it started (a SIGKILL would leave it running).
    const ending = children.filter(running);
    const ended = ending.map((child) => new Promise((resolve) => child.once('exit', resolve)));
    for (const child of ending) child.kill('SIGTERM');
    const grace = new Promise((resolve) => setTimeout(resolve, GRACE_MS).unref());
    await Promise.race([Promise.all(ended), grace]);
    killNow();
    liveLabs.delete(killNow);
  });

  const host = (name: string): Host => {
    const ns = `${prefix}-${name}`;
    ip('netns', 'add', ns);
    namespaces.push(ns);
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    const exec: Host['exec'] = (command, args) => {
      const result = spawnSync('ip', ['netns', 'exec', ns, command, ...args], { encoding: 'utf8', timeout: 120_000 });
      return { status: result.status, stdout: result.stdout, stderr: result.stderr };
    };
    return {
      ns,
      addresses: [],
      devices: [],
      spawn: (command, args, env = {}) => {
        const child = spawn('ip', ['netns', 'exec', ns, command, ...args], {
          env: { ...process.env, ...env },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        children.push(child);
        return watchProcess(child, ns);
      },
      exec,
      run: (command, args) => {
        const result = exec(command, args);
        if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} in ${ns}: ${result.stderr.trim()}`);
        return result.stdout;
      },
    };
  };

  const link: Lab['link'] = (a, b, subnet, ends = [1, 2]) => {
    const devA = `${prefix}v${devices++}`;
    const devB = `${prefix}v${devices++}`;
    if (devB.length > MAX_DEVICE_NAME) throw new Error(`interface name ${devB} is longer than ${MAX_DEVICE_NAME}`);
    ip('link', 'add', devA, 'netns', a.ns, 'type', 'veth', 'peer', 'name', devB, 'netns', b.ns);
    for (const [end, dev, last] of [
      [a, devA, ends[0]],
      [b, devB, ends[1]],
    ] as const) {
      const address = `10.77.${subnet}.${last}`;
      ip('-n', end.ns, 'addr', 'add', `${address}/24`, 'dev', dev);
      ip('-n', end.ns, 'link', 'set', dev, 'up');
      end.addresses.push(address);
      end.devices.push(dev);
    }
  };

  const segment: Lab['segment'] = (names, subnet = 1) => {
    const hosts = names.map(host);
    const [first, ...rest] = hosts;
    if (!first) return hosts;
    const routeMulticast = (member: Host): void => {
      ip('-n', member.ns, 'route', 'add', '224.0.0.0/4', 'dev', member.devices[0] ?? '');
    };
    if (rest.length === 1 && rest[0]) {
      link(first, rest[0], subnet);
      hosts.forEach(routeMulticast);
      return hosts;
    }
    // A star of point-to-point links is no segment for multicast: use a bridge host instead.
    const bridge = host('br');
    ip('-n', bridge.ns, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', bridge.ns, 'link', 'set', 'br0', 'up');
    hosts.forEach((member, index) => {
      link(member, bridge, subnet, [index + 1, 200 + index]);
      const port = bridge.devices[index] ?? '';
      ip('-n', bridge.ns, 'addr', 'flush', 'dev', port);
      ip('-n', bridge.ns, 'link', 'set', port, 'master', 'br0');
      routeMulticast(member);
    });
    return hosts;
  };

  return { host, link, segment };
}

/** A host of makeSegment: its one address and veth device. */
export interface SegmentHost extends Host {
  address: string;
  veth: string;
}

/** Two namespaces on one segment: a at 10.77.0.1/24, b at 10.77.0.2/24, multicast routed on the veth. */
export function makeSegment(t: After): { a: SegmentHost; b: SegmentHost } {
  const [a, b] = createLab(t)
    .segment(['a', 'b'], 0)
    .map((member) => Object.assign(member, { address: member.addresses[0] ?? '', veth: member.devices[0] ?? '' }));
  if (!a || !b) throw new Error('a segment of two hosts has two hosts');
  return { a, b };
}

/** Where compiled scripts are, for `host.spawn(process.execPath, ...)` (dist/src/...). */
export function distScript(relative: string): string {
  const path = new URL(`../${relative}`, import.meta.url).pathname;
  if (!existsSync(path)) throw new Error(`${path} is missing: run npm run build`);
  return path;
}
