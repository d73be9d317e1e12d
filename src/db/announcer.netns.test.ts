/**
 * The database announcer on a real (namespaced) network: `kiln db init` in namespace A starts the
 * server and, beside it, the announcer; `kiln services map` in B lists the database (multicast
 * and DNS-SD); `kiln db stop` in A withdraws it with a goodbye and leaves no announcer behind.
 * Nothing here sends on the machine's own interfaces.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import * as igniter from './igniter.js';
import { KILN_MAIN } from '../testing/cli.js';
import { NAMESPACED_DISCOVERY_ENV, waitForFile } from '../testing/netns-dns.js';
import { makeSegment, netnsSkipReason, type SegmentHost } from '../testing/netns.js';
import { makeTempDir } from '../testing/temp.js';

const skip = netnsSkipReason();

interface MapRow {
  kind: string;
  addresses: string[];
  ports: Record<string, number>;
  sources: string[];
  meta?: Record<string, string>;
}

/** Runs `kiln ARGS` inside a namespace with discovery on, to its end. */
function kiln(host: SegmentHost, args: string[]): string {
  const env = Object.entries(NAMESPACED_DISCOVERY_ENV).map(([key, value]) => `${key}=${value}`);
  return host.run('env', [...env, process.execPath, KILN_MAIN, ...args]);
}

/** Running (a zombie left for a container's init to reap has ended). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('kiln db init / stop announce and withdraw the database', { skip: skip ?? false }, () => {
  const cleanups: Array<() => unknown> = [];
  const hooks = { after: (fn: () => unknown) => cleanups.push(fn) };
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });

  it('B sees the database by multicast and DNS-SD; after `kiln db stop` its goodbye removes it within 1 s', async () => {
    const home = makeTempDir(hooks, 'kiln-announce-db-', () => igniter.destroy(join(home, 'db')));
    const { a, b } = makeSegment(hooks);
    const data = join(home, 'db');
    assert.match(kiln(a, ['db', 'init', '--home', home, '--clients', '2']), /Running on port 7533/);
    await waitForFile(join(data, 'kiln-announcer.log'), /"kind":"database".*registered over DNS-SD/, 30_000);
    const { pid } = JSON.parse(readFileSync(join(data, 'kiln-announcer.pid'), 'utf8')) as { pid: number };
    assert.ok(alive(pid));

    const map = (): MapRow[] =>
      JSON.parse(kiln(b, ['services', 'map', '--json', '--wait', '1.5', '--home', makeTempDir(hooks)])) as MapRow[];
    const database = map().find((row) => row.kind === 'database');
    assert.deepEqual(database?.sources, ['multicast', 'dns-sd'], JSON.stringify(database));
    assert.deepEqual(database?.ports, { postgres: 7533 });
    assert.deepEqual(database?.meta, { auth: 'trust' });
    assert.deepEqual(database?.addresses, [a.address]);

    const monitor = b.spawn(
      process.execPath,
      [KILN_MAIN, 'services', 'monitor', '--home', makeTempDir(hooks)],
      NAMESPACED_DISCOVERY_ENV,
    );
    await monitor.waitFor(/ appeared +database /, 10_000);
    const stopped = Date.now();
    assert.match(kiln(a, ['db', 'stop', '--home', home]), /Database stopped/);
    await monitor.waitFor(/ disappeared \(goodbye\) +database /, 1_000 + (Date.now() - stopped));
    assert.ok(Date.now() - stopped < 10_000);
    assert.equal(alive(pid), false, 'no announcer remains');
    assert.equal(existsSync(join(data, 'kiln-announcer.pid')), false);
    assert.match(readFileSync(join(data, 'kiln-announcer.log'), 'utf8'), /"reason":"SIGTERM"[\s\S]*announcer stopped/);
    assert.equal(map().filter((row) => row.kind === 'database').length, 0);
  });
});
