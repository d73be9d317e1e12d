import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runKiln } from '../../testing/cli.js';
import { makeTempDir } from '../../testing/temp.js';

interface PortLine {
  port: string;
  protocol: string;
  purpose: string;
}

describe('kiln ports', () => {
  it("lists every port under this configuration: manager, database, self-discovery, DNS-SD, the dynamic range and Linux's ephemeral range", async (t) => {
    const home = makeTempDir(t, 'kiln-ports-');
    writeFileSync(
      join(home, 'network.cfg'),
      '[Self Discovery]\nPort = 7666\nScope = 239.0.0.1\nTTL = 2\n[Dynamic Ports]\nLowerBound = 50000\nUpperBound = 50100\n',
    );
    writeFileSync(join(home, 'manager.yaml'), 'listen: 0.0.0.0:8000\n');
    writeFileSync(join(home, 'db.yaml'), 'port: 7600\n');
    const result = await runKiln(['ports', '--json', '--home', home]);
    assert.equal(result.code, 0, result.stderr);
    const lines = JSON.parse(result.stdout) as PortLine[];
    const find = (port: string) => lines.find((line) => line.port === port);
    assert.equal(find('8000')?.protocol, 'tcp');
    assert.match(find('8000')?.purpose ?? '', /manager/);
    assert.match(find('7600')?.purpose ?? '', /database/);
    assert.equal(find('7666')?.protocol, 'udp');
    assert.match(find('7666')?.purpose ?? '', /239\.0\.0\.1, TTL 2/);
    assert.match(find('5353')?.purpose ?? '', /DNS-SD/);
    assert.equal(find('50000-50100')?.protocol, 'tcp,udp');
    const [lower, upper] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    assert.match(find(`${lower}-${upper}`)?.purpose ?? '', /ephemeral/);

    const table = await runKiln(['ports', '--home', home]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^\s*PORT\s+PROTOCOL\s+PURPOSE/);
  });
});
