import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fork } from 'node:child_process';
import { makeTempDir } from '../testing/temp.js';
import { parseIni, setIniValue } from './ini.js';
import { loadNetworkConfig, parseNetworkConfig } from './network-config.js';
import { ensureHostIdentity, regenerateHostIdentity } from './host-identity.js';
import { bindInRange, pickFreePort } from './dynamic-ports.js';

describe('network.cfg', () => {
  it('reads sections with spaces and keys without case', () => {
    const sections = parseIni('# c\n[ Self Discovery ]\nport = 7600\n; x\n[Local]\nUUID=abc\n');
    assert.equal(sections.get('self discovery')?.get('port'), '7600');
    assert.equal(sections.get('local')?.get('uuid'), 'abc');
  });

  it('setIniValue keeps comments and adds keys where they belong', () => {
    const text = '# keep me\n[Local]\n# note\n\n[Dynamic Ports]\nLowerBound = 50000\n';
    const next = setIniValue(text, 'Local', 'UUID', 'x');
    assert.match(next, /# keep me\n\[Local\]\nUUID = x\n# note/);
    assert.match(setIniValue(next, 'Local', 'UUID', 'y'), /UUID = y/);
    assert.match(setIniValue('', 'Local', 'UUID', 'z'), /^\[Local\]\nUUID = z\n$/);
  });

  it('defaults when the file is missing; bad values name the key and the file', (t) => {
    const home = makeTempDir(t);
    const config = loadNetworkConfig(home);
    assert.deepEqual(config.selfDiscovery, { port: 7555, scope: '224.0.0.1', ttl: 1, interface: undefined });
    assert.deepEqual(config.dynamicPorts, { lower: 49152, upper: 65535 });
    assert.throws(
      () => parseNetworkConfig('[Self Discovery]\nTTL = many\n', '/h/network.cfg'),
      /^UserError: \[Self Discovery\] TTL must be an integer from 1 to 255, got "many" \(in \/h\/network.cfg\)$/,
    );
    assert.throws(
      () => parseNetworkConfig('[Self Discovery]\nScope = 10.0.0.1\n', 'f'),
      /Scope must be an IPv4 multicast/,
    );
    assert.throws(() => parseNetworkConfig('[Local]\nUUID = nope\n', 'f'), /\[Local\] UUID must be a UUID/);
    assert.throws(() => parseNetworkConfig('UUID = x\n', 'f'), /f: line 1 sets a key before any \[Section\]/);
    assert.throws(
      () => parseNetworkConfig('[Dynamic Ports]\nLowerBound = 60000\nUpperBound = 50000\n', 'f'),
      /LowerBound \(60000\) is above UpperBound/,
    );
  });

  it('generates the UUID once and never overwrites it', async (t) => {
    const home = makeTempDir(t);
    const first = await ensureHostIdentity(home);
    const again = await ensureHostIdentity(home);
    assert.equal(again.uuid, first.uuid);
    assert.match(readFileSync(join(home, 'network.cfg'), 'utf8'), /Scope = 224.0.0.1/);
    // A hand-written file without a UUID keeps its settings and comments.
    const other = makeTempDir(t);
    writeFileSync(join(other, 'network.cfg'), '# mine\n[Self Discovery]\nTTL = 2\n');
    const added = await ensureHostIdentity(other);
    assert.equal(added.selfDiscovery.ttl, 2);
    assert.match(readFileSync(join(other, 'network.cfg'), 'utf8'), /^# mine\n/);
    const regenerated = await regenerateHostIdentity(other);
    assert.equal(regenerated.previous, added.uuid);
    assert.notEqual(regenerated.uuid, added.uuid);
    assert.equal(loadNetworkConfig(other).uuid, regenerated.uuid);
  });

  it('concurrent first runs in separate processes agree on one UUID', async (t) => {
    for (const initial of [undefined, '[Self Discovery]\nTTL = 1\n']) {
      const home = makeTempDir(t);
      if (initial) writeFileSync(join(home, 'network.cfg'), initial);
      const script = new URL('./host-identity.js', import.meta.url).pathname;
      const runs = Array.from({ length: 6 }, () => {
        const child = fork(
          '--input-type=module',
          [
            '-e',
            `import(${JSON.stringify(script)}).then(async (m) => console.log((await m.ensureHostIdentity(${JSON.stringify(home)})).uuid))`,
          ],
          { silent: true, execArgv: [] },
        );
        return new Promise<string>((resolve) => {
          let out = '';
          child.stdout?.on('data', (chunk) => (out += chunk));
          child.on('exit', () => resolve(out.trim()));
        });
      });
      const uuids = new Set(await Promise.all(runs));
      assert.equal(uuids.size, 1, [...uuids].join(','));
      assert.equal(loadNetworkConfig(home).uuid, [...uuids][0]);
    }
  });

  it('takes arbitrary ports inside the dynamic range', async () => {
    const range = { lower: 50100, upper: 50110 };
    const port = await pickFreePort(range, 'tcp');
    assert.ok(port >= 50100 && port <= 50110);
    const tried: number[] = [];
    await assert.rejects(
      bindInRange(
        range,
        async (p) => {
          tried.push(p);
          throw Object.assign(new Error('busy'), { code: 'EADDRINUSE' });
        },
        5,
      ),
      /no free port in the dynamic range 50100-50110/,
    );
    assert.equal(tried.length, 5);
  });
});
