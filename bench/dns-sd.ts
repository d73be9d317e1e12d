/**
 * `npm run bench -- dns-sd`: how fast a worker's resolver finds the manager by DNS-SD and by
 * services.cfg, next to bonjour-service's own browse, and how fast a starting `kiln worker` finds
 * it by multicast, by DNS-SD and by services.cfg, all inside network namespaces (a stand-in
 * manager in A, the lookups in B) so nothing is sent on this machine's interfaces.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeSegment, netnsSkipReason, type SegmentHost } from '../src/testing/netns.js';
import { makeTempDir } from '../src/testing/temp.js';
import { ms, percentile } from './stats.js';

const PUBLISHER = fileURLToPath(new URL('../src/testing/dns-sd-publisher.js', import.meta.url));
const DISCOVERY_PEER = fileURLToPath(new URL('../src/testing/discovery-peer.js', import.meta.url));
const CHILD = fileURLToPath(new URL('./dns-sd-child.js', import.meta.url));
const ROUNDS = 50;
const WORKER_STARTS = 10;
const KILN_MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

/** From `kiln worker` starting (no manager configured) to its "found the manager" line. */
async function benchWorkerStarts(b: SegmentHost, servicesHome: string): Promise<void> {
  // Each way with the other lookups off, so each time is its own step's.
  const ways: Array<[string, string, NodeJS.ProcessEnv]> = [
    ['by multicast self-discovery (empty home)', '', { KILN_SELF_DISCOVERY: 'on', KILN_DNS_SD: 'off' }],
    ['by DNS-SD (empty home)', '', { KILN_SELF_DISCOVERY: 'off', KILN_DNS_SD: 'on' }],
    ['by services.cfg', servicesHome, { KILN_SELF_DISCOVERY: 'off', KILN_DNS_SD: 'off' }],
  ];
  const times: number[][] = ways.map(() => []);
  for (let round = 0; round < WORKER_STARTS; round++) {
    for (const [index, [, fixedHome, env]] of ways.entries()) {
      const home = fixedHome || mkdtempSync(join(tmpdir(), 'kiln-bench-worker-'));
      const started = performance.now();
      const worker = b.spawn(process.execPath, [KILN_MAIN, 'worker', '--home', home], { ...env, KILN_MANAGER: '' });
      await worker.waitFor(/found the manager/, 10_000);
      times[index]?.push(performance.now() - started);
      worker.child.kill('SIGKILL');
      await worker.exited;
      rmSync(join(home, 'worker.lock'), { force: true });
      if (!fixedHome) rmSync(home, { recursive: true, force: true });
    }
  }
  console.log(`  kiln worker start to "found the manager", ${WORKER_STARTS} starts each (includes Node's start-up):`);
  for (const [index, [label]] of ways.entries()) {
    const values = times[index] ?? [];
    console.log(`    ${label.padEnd(54)} p50 ${ms(percentile(values, 50))}  p99 ${ms(percentile(values, 99))}`);
  }
}

export async function benchDnsSd(): Promise<void> {
  const skip = netnsSkipReason();
  if (skip) {
    console.log(`dns-sd: skipped (${skip})`);
    return;
  }
  const cleanups: Array<() => unknown> = [];
  const scope = { after: (fn: () => unknown) => cleanups.push(fn) };
  try {
    const { a, b } = makeSegment(scope);
    const publisher = a.spawn(process.execPath, [PUBLISHER, '7780', '6f1b3a52-0c1e-5d7a-9a43-2b8f6e0d4c11']);
    await publisher.waitFor(/ready/, 10_000);
    // The manager's multicast announcements, for the workers that look by multicast.
    const peerHome = makeTempDir(scope, 'kiln-bench-peer-');
    const peerOptions = { home: peerHome, services: [{ kind: 'manager', ports: { http: 7780 } }] };
    const announcer = a.spawn(process.execPath, [DISCOVERY_PEER, JSON.stringify(peerOptions)]);
    await announcer.waitFor(/"ready"/, 10_000);
    const home = makeTempDir(scope, 'kiln-bench-dnssd-');
    const servicesFile = join(home, 'services.cfg');
    writeFileSync(
      servicesFile,
      `[manager A]\nkind = manager\nhost = a\naddresses = ${a.address}\nports = http:7780\nsource = bench\n`,
    );
    const child = b.spawn(process.execPath, [CHILD, String(ROUNDS), servicesFile, `http://${a.address}:7780`]);
    const code = await child.exited;
    if (code !== 0) throw new Error(`dns-sd bench child failed:\n${child.output()}`);
    const { cold, times } = JSON.parse(child.output().trim().split('\n').at(-1) ?? '{}') as {
      cold: Record<string, number>;
      times: Record<string, number[]>;
    };
    console.log(`dns-sd: manager found, ${ROUNDS} lookups each, publisher already up (namespaced veth segment)`);
    const rows: Array<[string, string]> = [
      ['dnsSd', 'Kiln resolver by DNS-SD (browseDnsSd, first answer)'],
      ['servicesFile', 'Kiln resolver by services.cfg (read + /version probe)'],
      ['bonjour', "bonjour-service's own findOne"],
    ];
    for (const [key, label] of rows) {
      const values = times[key] ?? [];
      console.log(
        `  ${label.padEnd(56)} p50 ${ms(percentile(values, 50))}  p99 ${ms(percentile(values, 99))}  first ${ms(cold[key] ?? Number.NaN)}`,
      );
    }
    await benchWorkerStarts(b, home);
  } finally {
    for (const fn of cleanups.reverse()) await fn();
  }
}
