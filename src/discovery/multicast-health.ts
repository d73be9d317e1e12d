/**
 * Why multicast may not work on this host, with the command that fixes it: the interface
 * announcements leave by (network.cfg's, else the route for the scope; loopback on a host
 * alone) must have the MULTICAST flag, and without a chosen interface there must be a route for
 * the scope. Linux only (reads /sys and asks `ip`); elsewhere it finds nothing to say.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { SelfDiscoverySettings } from '../config/network-config.js';

const run = promisify(execFile);
/** IFF_MULTICAST in <linux/if.h>. */
const IFF_MULTICAST = 0x1000;

export async function multicastWarnings(settings: SelfDiscoverySettings): Promise<string[]> {
  if (process.platform !== 'linux') return [];
  const warnings: string[] = [];
  let device = settings.interface;
  if (!device) {
    device = await routeDevice(settings.scope);
    if (!device) {
      const fixOn = (await firstUpDevice()) ?? 'lo';
      warnings.push(
        `no route for the multicast scope ${settings.scope}: announcements cannot leave this host; ` +
          `fix: ip route add 224.0.0.0/4 dev ${fixOn}`,
      );
      device = fixOn === 'lo' ? 'lo' : undefined;
    }
  }
  if (device && !(await hasMulticastFlag(device)))
    warnings.push(
      `interface ${device} lacks the MULTICAST flag: self-discovery cannot use it; fix: ip link set dev ${device} multicast on`,
    );
  return warnings;
}

async function routeDevice(scope: string): Promise<string | undefined> {
  try {
    const { stdout } = await run('ip', ['-o', 'route', 'get', scope], { timeout: 2000 });
    return /\bdev (\S+)/.exec(stdout)?.[1];
  } catch {
    return undefined; // "Network is unreachable", or no `ip`
  }
}

async function hasMulticastFlag(device: string): Promise<boolean> {
  try {
    const flags = Number.parseInt((await readFile(`/sys/class/net/${device}/flags`, 'utf8')).trim(), 16);
    return (flags & IFF_MULTICAST) !== 0;
  } catch {
    return true; // no such device in /sys: nothing we can say
  }
}

/** The first interface that is up and not loopback, to name in the fix. */
async function firstUpDevice(): Promise<string | undefined> {
  try {
    const { stdout } = await run('ip', ['-o', 'link', 'show', 'up'], { timeout: 2000 });
    return stdout
      .split('\n')
      .map((line) => /^\d+: ([^:@]+)/.exec(line)?.[1])
      .find((name) => name && name !== 'lo');
  } catch {
    return undefined;
  }
}
