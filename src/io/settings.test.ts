import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_IO_PRIORITY_PORT, parseNetworkConfig } from '../config/network-config.js';
import { makeTempDir } from '../testing/temp.js';
import { gateTargets, ioSettings } from './index.js';

describe('I/O priority settings (network.cfg [IO Priority])', () => {
  it('default to port 8244 on every address, watching this host only', (t) => {
    const settings = ioSettings(makeTempDir(t));
    assert.equal(DEFAULT_IO_PRIORITY_PORT, 8244);
    assert.deepEqual(settings, { port: 8244, listen: undefined, hosts: [] });
    assert.deepEqual(gateTargets(settings), [{ host: '127.0.0.1', port: 8244 }]);
  });

  it('read the port, the listen address and the storage hosts, each with an optional port', (t) => {
    const home = makeTempDir(t);
    writeFileSync(
      join(home, 'network.cfg'),
      '[IO Priority]\nPort = 9000\nListen = 10.1.2.3\nHosts = nas1, 10.0.0.5:8245, [fd00::5]:9001, fd00::6, nas1\n',
    );
    const settings = ioSettings(home);
    assert.equal(settings.port, 9000);
    assert.equal(settings.listen, '10.1.2.3');
    assert.deepEqual(gateTargets(settings), [
      { host: '10.1.2.3', port: 9000 },
      { host: 'nas1', port: 9000 },
      { host: '10.0.0.5', port: 8245 },
      { host: 'fd00::5', port: 9001 },
      { host: 'fd00::6', port: 9000 },
    ]);
  });

  it('refuse bad values, naming the key and the file', () => {
    assert.throws(
      () => parseNetworkConfig('[IO Priority]\nHosts = nas1, bad host!\n', '/h/network.cfg'),
      /^UserError: \[IO Priority\] Hosts must be a comma-separated list of host names or addresses, each with an optional :port, got "nas1, bad host!" \(in \/h\/network.cfg\)$/,
    );
    assert.throws(
      () => parseNetworkConfig('[IO Priority]\nPort = 0\n', 'f'),
      /Port must be an integer from 1 to 65535/,
    );
    assert.throws(
      () => parseNetworkConfig('[IO Priority]\nListen = everywhere\n', 'f'),
      /Listen must be an IP address/,
    );
    assert.throws(() => parseNetworkConfig('[IO Priority]\nHosts = nas1:99999\n', 'f'), /Hosts must be/);
  });
});
