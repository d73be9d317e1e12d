import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '../testing/temp.js';
import { loadConfig } from './load.js';
import { DbConfigSchema, DB_DEFAULTS } from '../db/config.js';

test('layers: defaults, then the YAML file, then KILN_* variables, then flags', (t) => {
  const home = makeTempDir(t);
  writeFileSync(join(home, 'db.yaml'), 'port: 6000\nclients: 4\nlisten: [127.0.0.1]\n');
  const fromFile = loadConfig('db', DbConfigSchema, DB_DEFAULTS, { home, env: {} });
  assert.deepEqual(fromFile, {
    port: 6000,
    auth: 'trust',
    clients: 4,
    listen: ['127.0.0.1'],
    discovery: { enabled: true, dns_sd: true },
  });
  const fromEnv = loadConfig('db', DbConfigSchema, DB_DEFAULTS, {
    home,
    env: { KILN_DB_PORT: '6001', KILN_DB_LISTEN: '127.0.0.1, 127.0.0.2' },
  });
  assert.equal(fromEnv.port, 6001);
  assert.deepEqual(fromEnv.listen, ['127.0.0.1', '127.0.0.2']);
  const fromFlags = loadConfig('db', DbConfigSchema, DB_DEFAULTS, {
    home,
    env: { KILN_DB_PORT: '6001' },
    flags: { port: '6002', auth: 'cert' },
  });
  assert.equal(fromFlags.port, 6002);
  assert.equal(fromFlags.auth, 'cert');
  assert.ok(Object.isFrozen(fromFlags));
});

test('a bad value names the key, the reason and where it came from', (t) => {
  const home = makeTempDir(t);
  const cases: Array<[() => unknown, RegExp]> = [
    [
      () => loadConfig('db', DbConfigSchema, DB_DEFAULTS, { home, env: { KILN_DB_PORT: 'x' } }),
      /db\.port: must be an integer from 1 to 65535, got "x" \(from KILN_DB_PORT\)$/,
    ],
    [
      () => loadConfig('db', DbConfigSchema, DB_DEFAULTS, { home, env: {}, flags: { auth: 'ldap' } }),
      /db\.auth: must be one of trust, cert, got "ldap" \(from command line\)$/,
    ],
  ];
  for (const [load, message] of cases) assert.throws(load, message);
  writeFileSync(join(home, 'db.yaml'), 'prot: 6000\n');
  assert.throws(
    () => loadConfig('db', DbConfigSchema, DB_DEFAULTS, { home, env: {} }),
    /db\.prot: is not a known key.*db\.yaml/,
  );
  writeFileSync(join(home, 'db.yaml'), 'port: [unclosed\n');
  assert.throws(() => loadConfig('db', DbConfigSchema, DB_DEFAULTS, { home, env: {} }), /db\.yaml: /);
});
