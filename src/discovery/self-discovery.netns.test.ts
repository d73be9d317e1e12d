/**
 * Self-discovery on real (namespaced) networks: every host is a network namespace this test
 * makes and removes, so no multicast reaches the machine's own interfaces.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLab, distScript, netnsSkipReason, type Host } from '../testing/netns.js';

const skip = netnsSkipReason();
const PERIOD_MS = 300;
const MANAGER = { kind: 'manager', ports: { http: 7780 } };

function home(t: { after: (fn: () => unknown) => void }, networkCfg?: string, uuid?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-disco-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const local = uuid ? `[Local]\nUUID = ${uuid}\n` : '';
  if (networkCfg || uuid) writeFileSync(join(dir, 'network.cfg'), `${local}${networkCfg ?? ''}`);
  return dir;
}

function startPeer(host: Host, options: object) {
  return host.spawn(process.execPath, [
    distScript('testing/discovery-peer.js'),
    JSON.stringify({ periodMs: PERIOD_MS, services: [MANAGER], ...options }),
  ]);
}

function map(host: Host, homeDir: string, wait = '0.5'): any[] {
  // Multicast on (inside the namespace only); DNS-SD off so only self-discovery is measured.
  const result = host.exec('env', [
    'KILN_SELF_DISCOVERY=on',
    'KILN_DNS_SD=off',
    process.execPath,
    distScript('cli/main.js'),
    'services',
    'map',
    '--json',
    '--wait',
    wait,
    '--home',
    homeDir,
  ]);
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout);
}

describe('self-discovery between network namespaces', { skip, timeout: 60_000 }, () => {
  it('one segment: `kiln services map --json` on B sees the manager announced on A', async (t) => {
    const lab = createLab(t);
    const [a, b] = lab.segment(['a', 'b']) as [Host, Host];
    const peer = startPeer(a, { home: home(t) });
    const ready = JSON.parse(await peer.waitForLine(/"ready"/));
    const entries = map(b, home(t));
    assert.equal(entries.length, 1);
    const [entry] = entries;
    assert.equal(entry.kind, 'manager');
    assert.equal(entry.uuid, ready.uuid);
    assert.deepEqual(entry.addresses, ['10.77.1.1']);
    assert.deepEqual(entry.ports, { http: 7780 });
    assert.equal(entry.source, 'multicast');
    assert.equal(typeof entry.host, 'string');
  });

  it('a second scope (239.0.0.1) and port work; a listener on the default scope hears nothing', async (t) => {
    const lab = createLab(t);
    const [a, b] = lab.segment(['a', 'b']) as [Host, Host];
    const scoped = '[Self Discovery]\nScope = 239.0.0.1\nPort = 7666\n';
    const peer = startPeer(a, { home: home(t, scoped) });
    await peer.waitForLine(/"ready"/);
    assert.equal(map(b, home(t, scoped)).length, 1);
    assert.equal(map(b, home(t)).length, 0);
  });

  it('SIGKILL: the entry leaves within the expiry; a clean stop within 1 s (goodbye)', async (t) => {
    const lab = createLab(t);
    const [a, b] = lab.segment(['a', 'b']) as [Host, Host];
    const watcher = startPeer(b, { home: home(t), services: [] });
    await watcher.waitForLine(/"ready"/);
    const killed = startPeer(a, { home: home(t) });
    await watcher.waitForLine(/"appeared"/);
    const killedAt = Date.now();
    killed.child.kill('SIGKILL');
    const gone = JSON.parse(await watcher.waitForLine(/"disappeared"/, 5_000));
    const expiryMs = gone.at - killedAt;
    assert.ok(expiryMs <= 3 * PERIOD_MS + 300, `left after ${expiryMs} ms`);
    assert.ok(expiryMs >= 2 * PERIOD_MS, `left after ${expiryMs} ms: too early for an expiry`);

    const stopped = startPeer(a, { home: home(t), services: [{ kind: 'worker', ports: {} }] });
    await watcher.waitForLine(/"appeared".*"worker"/);
    await stopped.waitForLine(/"ready"/); // its signal handlers are in place
    const stoppedAt = Date.now();
    stopped.child.kill('SIGTERM');
    const bye = JSON.parse(await watcher.waitForLine(/"disappeared".*"worker"/, 1_000));
    assert.ok(bye.at - stoppedAt < 1_000);
    assert.equal(await stopped.exited, 0);
  });

  it('`kiln services monitor` prints one line per appearance and disappearance; Ctrl-C ends it with 0', async (t) => {
    const lab = createLab(t);
    const [a, b] = lab.segment(['a', 'b']) as [Host, Host];
    const monitor = b.spawn(process.execPath, [distScript('cli/main.js'), 'services', 'monitor', '--home', home(t)], {
      KILN_SELF_DISCOVERY: 'on',
      KILN_DNS_SD: 'off',
    });
    // Give the monitor a moment to join the group before anything announces.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const peer = startPeer(a, { home: home(t) });
    const appeared = await monitor.waitForLine(/ appeared +manager /);
    assert.match(appeared, /10\.77\.\d+\.1 .*http=7780 uuid=/);
    await peer.waitForLine(/"ready"/);
    peer.child.kill('SIGTERM');
    await monitor.waitForLine(/ disappeared \(goodbye\) +manager /, 2_000);
    assert.equal(await peer.exited, 0);
    const lines = monitor.lines().filter((line) => /appeared|disappeared|changed/.test(line));
    assert.equal(lines.length, 2, `one line each:\n${lines.join('\n')}`);
    monitor.child.kill('SIGINT');
    assert.equal(await monitor.exited, 0);
  });

  it('one UUID on two hosts: both report it, and map flags it', async (t) => {
    const lab = createLab(t);
    const [a, b, c] = lab.segment(['a', 'b', 'c']) as [Host, Host, Host];
    const uuid = '0a0a0a0a-0000-4000-8000-000000000001';
    const first = startPeer(a, { home: home(t, '', uuid), hostName: 'render-01' });
    const second = startPeer(b, { home: home(t, '', uuid), hostName: 'render-01-clone' });
    for (const peer of [first, second]) {
      await peer.waitForLine(/"event":"duplicate"/, 5_000);
      await peer.waitForLine(/DUPLICATE HOST UUID 0a0a0a0a-0000-4000-8000-000000000001/, 5_000);
    }
    const entries = map(c, home(t), '1');
    assert.equal(entries.length, 2);
    assert.ok(entries.every((entry) => entry.duplicateUuid === true));
  });

  it('malformed, oversized, foreign-version and spoofed packets are ignored and counted', async (t) => {
    const lab = createLab(t);
    const [a, b] = lab.segment(['a', 'b']) as [Host, Host];
    const peer = startPeer(a, { home: home(t) });
    await peer.waitForLine(/"ready"/);
    const sender = { uuid: 'x', host: 'evil', addresses: ['10.77.1.2'] };
    const payloads = [
      'garbage \u0000\u00ff',
      JSON.stringify({ hello: 'world' }),
      JSON.stringify({ kiln: 'discovery', v: 99, type: 'announce' }),
      JSON.stringify({
        kiln: 'discovery',
        v: 1,
        type: 'announce',
        sender: { ...sender, addresses: ['10.9.9.9'] },
        periodMs: 1000,
        entries: [],
      }),
      'x'.repeat(20_000),
    ];
    const script = `
      const dgram = require('node:dgram');
      const s = dgram.createSocket('udp4');
      const payloads = ${JSON.stringify(payloads)};
      let n = 0;
      for (const p of payloads) s.send(Buffer.from(p, 'latin1'), 7555, '224.0.0.1', () => { if (++n === payloads.length) s.close(); });
    `;
    const sent = b.exec(process.execPath, ['-e', script]);
    assert.equal(sent.status, 0, sent.stderr);
    const line = await peer.waitForLine(/"spoofed":1.*/, 5_000).catch(() => '');
    const counters = JSON.parse(
      peer
        .lines()
        .filter((l) => l.includes('"counters"'))
        .at(-1) ?? '{}',
    ).counters;
    assert.ok(line, JSON.stringify(counters));
    assert.equal(counters.malformed, 2);
    assert.equal(counters.foreignVersion, 1);
    assert.equal(counters.spoofed, 1);
    assert.equal(counters.oversized, 1);
    // Still working: a newcomer still finds it.
    assert.equal(map(b, home(t)).length, 1);
    assert.equal(peer.child.exitCode, null);
  });

  describe('three hosts, C behind a router', () => {
    const smcroute = spawnSync('smcrouted', ['-v']).error
      ? 'smcrouted is missing (apt-get install -y smcroute)'
      : undefined;

    function routedLab(t: any) {
      const lab = createLab(t);
      const a = lab.host('a');
      const r = lab.host('r');
      const c = lab.host('c');
      lab.link(a, r, 1, [1, 254]);
      lab.link(c, r, 2, [1, 254]);
      for (const host of [a, c]) {
        const ip = (...args: string[]) => host.exec('ip', args);
        ip('route', 'add', 'default', 'via', host === a ? '10.77.1.254' : '10.77.2.254');
        ip('route', 'add', '224.0.0.0/4', 'dev', host.devices[0] ?? '');
      }
      r.exec('sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
      const conf = join(mkdtempSync(join(tmpdir(), 'kiln-smcroute-')), 'smcroute.conf');
      t.after(() => rmSync(join(conf, '..'), { recursive: true, force: true }));
      const [toA, toC] = r.devices as [string, string];
      writeFileSync(
        conf,
        `phyint ${toA} enable\nphyint ${toC} enable\nmroute from ${toA} group 239.0.0.1 to ${toC}\nmroute from ${toC} group 239.0.0.1 to ${toA}\n`,
      );
      const dir = join(conf, '..');
      // A multicast router daemon, stopped with the lab's other processes.
      r.spawn('smcrouted', ['-n', '-f', conf, '-i', r.ns, '-u', join(dir, 'sock'), '-P', join(dir, 'pid')]);
      return { a, c };
    }

    it('with TTL 1, C does not see A; with TTL 2 and multicast routing it does', { skip: smcroute }, async (t) => {
      const { a, c } = routedLab(t);
      await new Promise((resolve) => setTimeout(resolve, 300)); // smcrouted installs its routes
      const ttl = (n: number) => `[Self Discovery]\nScope = 239.0.0.1\nTTL = ${n}\n`;
      const near = startPeer(a, { home: home(t, ttl(1)) });
      await near.waitForLine(/"ready"/);
      assert.equal(map(c, home(t, ttl(1)), '1').length, 0, 'TTL 1 must not cross the router');
      near.child.kill('SIGTERM');
      await near.exited;
      const far = startPeer(a, { home: home(t, ttl(2)) });
      await far.waitForLine(/"ready"/);
      const entries = map(c, home(t, ttl(2)), '1');
      assert.equal(entries.length, 1, 'TTL 2 crosses one multicast router');
      assert.deepEqual(entries[0].addresses, ['10.77.1.1']);
    });
  });
  it('`map` warns when multicast cannot work (no route for the scope, loopback without MULTICAST), with the fix', (t) => {
    const lab = createLab(t);
    const alone = lab.host('alone'); // loopback only: no MULTICAST flag, no multicast route
    const mapStderr = (): string => {
      const args = ['KILN_SELF_DISCOVERY=on', 'KILN_DNS_SD=off', process.execPath, distScript('cli/main.js')];
      const result = alone.exec('env', [...args, 'services', 'map', '--wait', '0.2', '--home', home(t)]);
      assert.equal(result.status, 0, result.stderr);
      return result.stderr;
    };
    const broken = mapStderr();
    assert.match(
      broken,
      /warning: no route for the multicast scope 224\.0\.0\.1.*fix: ip route add 224\.0\.0\.0\/4 dev lo/,
    );
    assert.match(broken, /warning: interface lo lacks the MULTICAST flag.*fix: ip link set dev lo multicast on/);
    alone.exec('ip', ['link', 'set', 'dev', 'lo', 'multicast', 'on']);
    alone.exec('ip', ['route', 'add', '224.0.0.0/4', 'dev', 'lo']);
    assert.doesNotMatch(mapStderr(), /warning/);
  });
});
