/**
 * DNS-SD and services.cfg on a real (namespaced) network: a real `kiln manager` with its embedded
 * database in namespace A; browsers, workers and snapshot in namespace B. Nothing here sends on
 * the machine's own interfaces.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { KILN_MAIN } from '../testing/cli.js';
import { NAMESPACED_DISCOVERY_ENV, waitForManagerAndDatabase } from '../testing/netns-dns.js';
import { makeSegment, netnsSkipReason, type NsProcess, type SegmentHost } from '../testing/netns.js';
import { makeTempDir } from '../testing/temp.js';

const ZEROCONF_BROWSE = fileURLToPath(new URL('../../../src/testing/zeroconf-browse.py', import.meta.url));
const DNS_SD_MODULE = new URL('./dns-sd.js', import.meta.url).href;
const skip = netnsSkipReason();
/** Discovery on: these processes live in namespaces, where mDNS is what is being tested. */
const DISCOVERY_ON = NAMESPACED_DISCOVERY_ENV;

/** Debian's python3-zeroconf (scripts/test-prerequisites.sh installs it as root); the reason when it is missing. */
function zeroconfMissing(): string | false {
  const has = spawnSync('/usr/bin/python3', ['-c', 'import zeroconf'], { stdio: 'ignore' }).status === 0;
  return has ? false : 'python3-zeroconf is missing (apt-get install -y python3-zeroconf as root)';
}

interface Heard {
  type: string;
  name: string;
  port: number;
  addresses: string[];
  txt: Record<string, string | null>;
}

describe('DNS-SD and services.cfg between two namespaced hosts', { skip: skip ?? false }, () => {
  const hooks = { after: (fn: () => unknown) => cleanups.push(fn) };
  const cleanups: Array<() => unknown> = [];
  let a: SegmentHost;
  let b: SegmentHost;
  let manager: NsProcess;
  let secret = '';

  before(async () => {
    ({ a, b } = makeSegment(hooks));
    const home = makeTempDir(hooks, 'kiln-dnssd-manager-');
    manager = a.spawn(process.execPath, [KILN_MAIN, 'manager', '--home', home, '--open'], DISCOVERY_ON);
    await waitForManagerAndDatabase(manager, home);
    secret = a.run(process.execPath, [KILN_MAIN, 'manager', 'secret', '--home', home]).trim();
  });
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });

  it('python3-zeroconf (not Kiln code) in B lists _kiln-manager._tcp and _kiln-db._tcp with TXT', async (t) => {
    const missing = zeroconfMissing();
    if (missing) return t.skip(missing);
    const browse = b.spawn('/usr/bin/python3', [
      ZEROCONF_BROWSE,
      '2',
      '_kiln-manager._tcp.local.',
      '_kiln-db._tcp.local.',
    ]);
    assert.equal(await browse.exited, 0, browse.output());
    const heard = JSON.parse(browse.output().trim().split('\n').at(-1) ?? '[]') as Heard[];
    const managerRecord = heard.find((record) => record.type === '_kiln-manager._tcp.local.');
    const databaseRecord = heard.find((record) => record.type === '_kiln-db._tcp.local.');
    assert.ok(managerRecord && databaseRecord, browse.output());
    assert.equal(managerRecord.port, 7780);
    assert.ok(managerRecord.addresses.includes(a.address));
    assert.match(managerRecord.txt.uuid ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(managerRecord.txt.version, JSON.parse(readFileSync('package.json', 'utf8')).version);
    assert.equal(databaseRecord.port, 7533);
    assert.equal(databaseRecord.txt.auth, 'trust');
    assert.equal(databaseRecord.txt.uuid, managerRecord.txt.uuid);
  });

  it("Kiln's browseDnsSd in B finds the manager and the database", async () => {
    const script = `const { browseDnsSd } = await import(${JSON.stringify(DNS_SD_MODULE)});
      process.stdout.write(JSON.stringify(await browseDnsSd({ timeoutMs: 1500 })));`;
    const browse = b.spawn(process.execPath, ['--input-type=module', '-e', script]);
    assert.equal(await browse.exited, 0, browse.output());
    const entries = JSON.parse(browse.output()) as Array<{
      kind: string;
      ports: object;
      addresses: string[];
      source: string;
      meta?: object;
    }>;
    const byKind = Object.fromEntries(entries.map((entry) => [entry.kind, entry]));
    assert.deepEqual(byKind.manager?.ports, { http: 7780 });
    assert.deepEqual(byKind.database?.ports, { postgres: 7533 });
    assert.deepEqual(byKind.database?.meta, { auth: 'trust' });
    assert.equal(byKind.manager?.addresses[0], a.address);
    assert.equal(byKind.manager?.source, 'dns-sd');
  });

  it('a worker in B with no manager configured finds it by multicast self-discovery', async () => {
    const home = makeTempDir(hooks, 'kiln-multicast-worker-');
    const worker = b.spawn(process.execPath, [KILN_MAIN, 'worker', '--home', home], {
      KILN_DNS_SD: 'off',
      KILN_SELF_DISCOVERY: 'on',
      KILN_WORKER_SECRET: secret,
      KILN_MANAGER: '',
    });
    await worker.waitFor(/"source":"multicast","msg":"found the manager"/, 10_000);
    await worker.waitFor(/"msg":"signed on"/, 10_000);
    assert.match(worker.output(), new RegExp(`"manager":"http://${a.address}:7780"`));
    worker.child.kill('SIGTERM');
    assert.equal(await worker.exited, 0);
  });

  it('a worker in B with no manager configured finds it through DNS-SD alone', async () => {
    const home = makeTempDir(hooks, 'kiln-dnssd-worker-');
    const worker = b.spawn(process.execPath, [KILN_MAIN, 'worker', '--home', home], {
      ...DISCOVERY_ON,
      // Multicast self-discovery off, so only DNS-SD can find the manager.
      KILN_SELF_DISCOVERY: 'off',
      KILN_WORKER_SECRET: secret,
      KILN_MANAGER: '',
    });
    await worker.waitFor(/"source":"dns-sd","msg":"found the manager"/, 10_000);
    await worker.waitFor(/"msg":"signed on"/, 10_000);
    assert.match(worker.output(), new RegExp(`"manager":"http://${a.address}:7780"`));
    worker.child.kill('SIGTERM');
    assert.equal(await worker.exited, 0);
  });

  it('with multicast blocked, a worker in B finds it through a services.cfg written by snapshot -h A', async () => {
    const home = makeTempDir(hooks, 'kiln-dnssd-snapshot-');
    b.run('ip', ['route', 'del', '224.0.0.0/4', 'dev', b.veth]);
    try {
      const snapshot = b.spawn(process.execPath, [KILN_MAIN, 'services', 'snapshot', '--home', home, '-h', a.address]);
      assert.equal(await snapshot.exited, 0, snapshot.output());
      assert.match(snapshot.output(), /2 found, 2 added/);
      const file = readFileSync(join(home, 'services.cfg'), 'utf8');
      assert.match(file, /kind = manager\n.*\n.*\naddresses = 10\.77\.0\.1\nports = http:7780/);
      assert.match(file, /kind = database[\s\S]*ports = postgres:7533[\s\S]*meta\.role = kiln/);
      const worker = b.spawn(process.execPath, [KILN_MAIN, 'worker', '--home', home], {
        KILN_DNS_SD: 'on',
        KILN_SELF_DISCOVERY: 'on',
        KILN_WORKER_SECRET: secret,
        KILN_MANAGER: '',
      });
      await worker.waitFor(/"source":"services.cfg","msg":"found the manager"/, 10_000);
      await worker.waitFor(/"msg":"signed on"/, 10_000);
      worker.child.kill('SIGTERM');
      assert.equal(await worker.exited, 0);
    } finally {
      b.run('ip', ['route', 'add', '224.0.0.0/4', 'dev', b.veth]);
    }
  });

  it('a clean stop (SIGTERM) withdraws both registrations: B hears the goodbye', async (t) => {
    const missing = zeroconfMissing();
    if (missing) return t.skip(missing);
    const browse = b.spawn('/usr/bin/python3', [
      ZEROCONF_BROWSE,
      '3',
      '_kiln-manager._tcp.local.',
      '_kiln-db._tcp.local.',
    ]);
    await new Promise((resolvePromise) => setTimeout(resolvePromise, 1200));
    const stoppedAt = Date.now();
    manager.child.kill('SIGTERM');
    assert.equal(await manager.exited, 0);
    assert.ok(Date.now() - stoppedAt < 5000, 'the manager stops within 5 s');
    assert.equal(await browse.exited, 0, browse.output());
    assert.deepEqual(JSON.parse(browse.output().trim().split('\n').at(-1) ?? 'null'), []);
  });
});
