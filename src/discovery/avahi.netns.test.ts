/**
 * Kiln's DNS-SD beside Debian's avahi-daemon on one host: avahi-daemon and a real `kiln manager`
 * both answer mDNS in namespace A (both bind UDP 5353); python3-zeroconf in B must list avahi's
 * service and Kiln's two, and avahi must keep its host name (no conflict with Kiln's records).
 *
 * avahi-daemon runs inside the namespace only, with D-Bus off (enable-dbus=no: a second daemon on
 * the host's system bus would clash with a host avahi over org.freedesktop.Avahi). Without D-Bus
 * `avahi-browse` cannot talk to it, so python3-zeroconf is the outside browser. Its run-time
 * directory (/run/avahi-daemon, compiled in) and static-services directory are mounted over in
 * the private mount namespace `ip netns exec` gives each command, so nothing lands on the host.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { KILN_MAIN } from '../testing/cli.js';
import { NAMESPACED_DISCOVERY_ENV, waitForManagerAndDatabase } from '../testing/netns-dns.js';
import { makeSegment, netnsSkipReason, type SegmentHost } from '../testing/netns.js';
import { makeTempDir } from '../testing/temp.js';

const ZEROCONF_BROWSE = fileURLToPath(new URL('../../../src/testing/zeroconf-browse.py', import.meta.url));
const AVAHI_DAEMON = '/usr/sbin/avahi-daemon';

function skipReason(): string | undefined {
  const netns = netnsSkipReason();
  if (netns) return netns;
  if (!existsSync(AVAHI_DAEMON))
    return 'avahi-daemon is missing (scripts/test-prerequisites.sh installs it as root, without starting it)';
  if (spawnSync('/usr/bin/python3', ['-c', 'import zeroconf'], { stdio: 'ignore' }).status !== 0)
    return 'python3-zeroconf is missing (apt-get install -y python3-zeroconf as root)';
  return undefined;
}

interface Heard {
  type: string;
  name: string;
  port: number;
  server: string;
  addresses: string[];
  txt: Record<string, string | null>;
}

/** avahi-daemon's configuration and one static service of its own, in `dir`. */
function writeAvahiFiles(dir: string, veth: string): { config: string; services: string } {
  const services = join(dir, 'services');
  mkdirSync(services);
  writeFileSync(
    join(services, 'probe.service'),
    `<?xml version="1.0" standalone='no'?>
<!DOCTYPE service-group SYSTEM "avahi-service.dtd">
<service-group><name>avahi beside kiln</name>
<service><type>_avahi-probe._tcp</type><port>9</port><txt-record>from=avahi</txt-record></service>
</service-group>
`,
  );
  const config = join(dir, 'avahi-daemon.conf');
  writeFileSync(
    config,
    [
      '[server]',
      'use-ipv4=yes',
      'use-ipv6=no',
      `allow-interfaces=${veth}`,
      'enable-dbus=no',
      '[wide-area]',
      'enable-wide-area=no',
      '[publish]',
      'publish-hinfo=no',
      'publish-workstation=no',
      '[reflector]',
      'enable-reflector=no',
      '',
    ].join('\n'),
  );
  return { config, services };
}

function startAvahi(host: SegmentHost, files: { config: string; services: string }) {
  const script = [
    'mount -t tmpfs kiln-avahi-run /run',
    'mkdir -p /run/avahi-daemon',
    `mount --bind '${files.services}' /etc/avahi/services`,
    `exec ${AVAHI_DAEMON} --no-drop-root --no-chroot --no-rlimits --no-proc-title -f '${files.config}'`,
  ].join(' && ');
  return host.spawn('sh', ['-c', script]);
}

describe("Kiln's DNS-SD beside avahi-daemon", { skip: skipReason() ?? false }, () => {
  const cleanups: Array<() => unknown> = [];
  const hooks = { after: (fn: () => unknown) => cleanups.push(fn) };
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });

  it('avahi-daemon and a kiln manager in A both answer; python3-zeroconf in B lists all three services', async (t) => {
    const avahiDir = makeTempDir(hooks, 'kiln-avahi-');
    const home = makeTempDir(hooks, 'kiln-avahi-manager-');
    const { a, b } = makeSegment(hooks);
    const avahi = startAvahi(a, writeAvahiFiles(avahiDir, a.veth));
    await avahi.waitFor(/Server startup complete\. Host name is (\S+)\./, 10_000);
    const avahiHost = /Host name is (\S+)\./.exec(avahi.output())?.[1];
    const manager = a.spawn(
      process.execPath,
      [KILN_MAIN, 'manager', '--home', home, '--open'],
      NAMESPACED_DISCOVERY_ENV,
    );
    await waitForManagerAndDatabase(manager, home);

    const browse = b.spawn('/usr/bin/python3', [
      ZEROCONF_BROWSE,
      '3',
      '_kiln-manager._tcp.local.',
      '_kiln-db._tcp.local.',
      '_avahi-probe._tcp.local.',
    ]);
    assert.equal(await browse.exited, 0, browse.output());
    const heard = JSON.parse(browse.output().trim().split('\n').at(-1) ?? '[]') as Heard[];
    const byType = (type: string) => heard.find((record) => record.type === type);
    const kilnManager = byType('_kiln-manager._tcp.local.');
    const kilnDb = byType('_kiln-db._tcp.local.');
    const avahiProbe = byType('_avahi-probe._tcp.local.');
    assert.ok(kilnManager && kilnDb && avahiProbe, `${browse.output()}\navahi:\n${avahi.output()}`);
    assert.equal(kilnManager.port, 7780);
    assert.ok(kilnManager.addresses.includes(a.address));
    assert.match(kilnManager.txt.uuid ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(kilnDb.txt.auth, 'trust');
    // Kiln's SRV target is a name of its own; avahi's host name is untouched and still answers.
    assert.match(kilnManager.server, /-kiln\.local\.$/);
    assert.equal(avahiProbe.server, `${avahiHost}.`);
    assert.ok(avahiProbe.addresses.includes(a.address));
    assert.equal(avahiProbe.txt.from, 'avahi');

    // What avahi says about the other responder on its host (e.g. "another IPv4 mDNS stack"), for the record.
    for (const line of avahi
      .output()
      .split('\n')
      .filter((text) => /warning/i.test(text)))
      t.diagnostic(line);
    assert.equal(avahi.child.exitCode, null, `avahi-daemon ended:\n${avahi.output()}`);
    assert.doesNotMatch(avahi.output(), /conflict/i, 'avahi renamed its host or a service: a conflict with Kiln');
    assert.equal(manager.child.exitCode, null, manager.output());
  });
});
