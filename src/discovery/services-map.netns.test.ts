/**
 * `kiln services map` and workers on a real (namespaced) network: a real `kiln manager` with its
 * embedded database in namespace A, real `kiln worker`s in B. The map merges multicast, DNS-SD
 * and services.cfg; a worker announces itself; a worker that found its manager by discovery
 * moves to another manager when the first one stops. Nothing here sends on the machine's own
 * interfaces.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KILN_MAIN } from '../testing/cli.js';
import { NAMESPACED_DISCOVERY_ENV, waitForManagerAndDatabase } from '../testing/netns-dns.js';
import { makeSegment, netnsSkipReason, type NsProcess, type SegmentHost } from '../testing/netns.js';
import { makeTempDir } from '../testing/temp.js';

const skip = netnsSkipReason();

interface MapRow {
  kind: string;
  uuid: string;
  host: string;
  serviceId: string;
  addresses: string[];
  ports: Record<string, number>;
  source: string;
  sources: string[];
  ageMs: number;
  meta?: Record<string, string>;
}

/** `kiln services map --json` inside a namespace, with the given discovery switches. */
function servicesMap(
  host: SegmentHost,
  home: string,
  switches: NodeJS.ProcessEnv = NAMESPACED_DISCOVERY_ENV,
): MapRow[] {
  const env = Object.entries(switches).map(([key, value]) => `${key}=${value}`);
  const args = [...env, process.execPath, KILN_MAIN, 'services', 'map', '--json', '--wait', '1.5', '--home', home];
  return JSON.parse(host.run('env', args)) as MapRow[];
}

function collectCleanups(): { hooks: { after: (fn: () => unknown) => void }; run: () => Promise<void> } {
  const cleanups: Array<() => unknown> = [];
  return {
    hooks: { after: (fn) => cleanups.push(fn) },
    run: async () => {
      for (const fn of cleanups.reverse()) await fn();
    },
  };
}

describe('kiln services map and announcing workers, between two namespaced hosts', { skip: skip ?? false }, () => {
  const cleanup = collectCleanups();
  let a: SegmentHost;
  let b: SegmentHost;
  let secret = '';

  before(async () => {
    const home = makeTempDir(cleanup.hooks, 'kiln-map-manager-');
    ({ a, b } = makeSegment(cleanup.hooks));
    const manager = a.spawn(
      process.execPath,
      [KILN_MAIN, 'manager', '--home', home, '--open'],
      NAMESPACED_DISCOVERY_ENV,
    );
    await waitForManagerAndDatabase(manager, home);
    secret = a.run(process.execPath, [KILN_MAIN, 'manager', 'secret', '--home', home]).trim();
  });
  after(() => cleanup.run());

  it('real kiln workers in B (self-discovery on) appear in `kiln services map --json` in A, one row each, and leave at their goodbye', async () => {
    // Two workers of one name on one host (two homes): each is its own service.
    const workers = [1, 2].map((n) =>
      b.spawn(
        process.execPath,
        [KILN_MAIN, 'worker', '--home', makeTempDir(cleanup.hooks, `kiln-map-worker${n}-`), '--name', 'render-b'],
        { ...NAMESPACED_DISCOVERY_ENV, KILN_MANAGER: `http://${a.address}:7780`, KILN_WORKER_SECRET: secret },
      ),
    );
    for (const worker of workers) await worker.waitFor(/"msg":"signed on"/, 15_000);
    const rows = servicesMap(a, makeTempDir(cleanup.hooks, 'kiln-map-a-'));
    const workerRows = rows.filter((row) => row.kind === 'worker');
    assert.equal(workerRows.length, 2, JSON.stringify(rows));
    assert.notEqual(workerRows[0]?.serviceId, workerRows[1]?.serviceId);
    for (const row of workerRows) {
      assert.deepEqual(row.addresses, [b.address]);
      assert.deepEqual(row.ports, {});
      assert.equal(row.source, 'multicast');
      assert.equal(row.meta?.name, 'render-b');
      assert.match(row.uuid, /^[0-9a-f-]{36}$/);
    }
    for (const worker of workers) worker.child.kill('SIGTERM');
    for (const worker of workers) assert.equal(await worker.exited, 0);
    const afterStop = servicesMap(a, makeTempDir(cleanup.hooks, 'kiln-map-a-'));
    assert.equal(afterStop.filter((row) => row.kind === 'worker').length, 0, JSON.stringify(afterStop));
  });

  it('merges multicast, DNS-SD and services.cfg: one row per service, listing its sources', () => {
    const home = makeTempDir(cleanup.hooks, 'kiln-map-sources-');
    writeFileSync(
      join(home, 'services.cfg'),
      [
        '# written by hand: the manager in A (no uuid) and one that only this file knows',
        '[manager a]',
        'kind = manager',
        `addresses = ${a.address}`,
        'ports = http:7780',
        '[manager elsewhere]',
        'kind = manager',
        'host = elsewhere',
        'addresses = 10.77.9.9',
        'ports = http:7780',
        '',
      ].join('\n'),
    );
    const rows = servicesMap(b, home);
    const managers = rows.filter((row) => row.kind === 'manager');
    const inA = managers.find((row) => row.addresses.includes(a.address));
    assert.deepEqual(inA?.sources, ['multicast', 'dns-sd', 'services.cfg'], JSON.stringify(rows));
    assert.equal(inA?.source, 'multicast');
    assert.deepEqual(inA?.ports, { http: 7780 });
    assert.ok((inA?.ageMs ?? Infinity) < 10_000);
    const elsewhere = managers.find((row) => row.host === 'elsewhere');
    assert.deepEqual(elsewhere?.sources, ['services.cfg']);
    const database = rows.find((row) => row.kind === 'database');
    assert.deepEqual(database?.sources, ['multicast', 'dns-sd']);
    assert.deepEqual(database?.ports, { postgres: 7533 });
    assert.equal(managers.length, 2);

    // Multicast off: DNS-SD and the file still name the manager, each as its source.
    const withoutMulticast = servicesMap(b, home, { ...NAMESPACED_DISCOVERY_ENV, KILN_SELF_DISCOVERY: 'off' });
    const viaDnsSd = withoutMulticast.find((row) => row.kind === 'manager' && row.addresses.includes(a.address));
    assert.deepEqual(viaDnsSd?.sources, ['dns-sd', 'services.cfg'], JSON.stringify(withoutMulticast));
    assert.equal(viaDnsSd?.source, 'dns-sd');
    assert.match(viaDnsSd?.uuid ?? '', /^[0-9a-f-]{36}$/);
  });
});

describe('a worker moves to another manager when the one it discovered stops', { skip: skip ?? false }, () => {
  const cleanup = collectCleanups();
  after(() => cleanup.run());

  it('two real managers on one database: the worker in B re-resolves by multicast and signs on to the second', async () => {
    const dbHome = makeTempDir(cleanup.hooks, 'kiln-move-a-');
    const homeB = makeTempDir(cleanup.hooks, 'kiln-move-b-');
    const workerHome = makeTempDir(cleanup.hooks, 'kiln-move-worker-');
    const { a, b } = makeSegment(cleanup.hooks);
    // The cluster is started by `kiln db init`, not by the manager, so it outlives the first
    // manager; it listens on every address, so the second manager reaches it from B.
    const init = a.spawn(process.execPath, [KILN_MAIN, 'db', 'init', '--home', dbHome]);
    assert.equal(await init.exited, 0, init.output());
    const multicastOnly = { ...NAMESPACED_DISCOVERY_ENV, KILN_DNS_SD: 'off', KILN_MANAGER_DISCOVERY_DNS_SD: 'false' };
    const first = a.spawn(process.execPath, [KILN_MAIN, 'manager', '--home', dbHome, '--open'], multicastOnly);
    await first.waitFor(/announcing by multicast self-discovery/, 30_000);
    const secret = a.run(process.execPath, [KILN_MAIN, 'manager', 'secret', '--home', dbHome]).trim();
    const worker = b.spawn(process.execPath, [KILN_MAIN, 'worker', '--home', workerHome, '--name', 'mover'], {
      ...multicastOnly,
      KILN_MANAGER: '',
      KILN_WORKER_SECRET: secret,
    });
    await worker.waitFor(new RegExp(`"manager":"http://${a.address}:7780","source":"multicast"`), 15_000);
    await worker.waitFor(/"msg":"signed on"/, 15_000);

    first.child.kill('SIGTERM');
    assert.equal(await first.exited, 0, first.output());
    const second = startSecondManager(b, homeB, a, multicastOnly);
    await second.waitFor(/announcing by multicast self-discovery/, 30_000);
    // The watch gives up on the first after 3 failed checks 5 s apart, then asks the chain again.
    await worker.waitFor(/moving to the manager found now/, 40_000);
    await worker.waitFor(/moving to the manager found now[\s\S]*"msg":"signed on"/, 20_000);
    assert.match(worker.output(), new RegExp(`"manager":"http://${b.address}:7780","source":"multicast"`));
    worker.child.kill('SIGTERM');
    assert.equal(await worker.exited, 0);
  });
});

/** A second manager in B on the database in A (trust mode, role kiln_admin as the embedded manager uses). */
function startSecondManager(b: SegmentHost, home: string, a: SegmentHost, env: NodeJS.ProcessEnv): NsProcess {
  const url = `postgresql://kiln_admin@${a.address}:7533/kiln`;
  return b.spawn(process.execPath, [KILN_MAIN, 'manager', '--home', home, '--open', '--database-url', url], env);
}
