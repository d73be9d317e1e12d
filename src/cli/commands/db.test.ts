import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { announcerChannels } from '../../db/announcer.js';
import * as igniter from '../../db/igniter.js';
import { runKiln } from '../../testing/cli.js';
import { freePort, makeTempDir } from '../../testing/temp.js';

test('with KILN_SELF_DISCOVERY and KILN_DNS_SD off, kiln db init/start start no announcer, and kiln db stop still stops', async (t) => {
  const home = makeTempDir(t, 'kiln-db-noannounce-', () => igniter.destroy(join(home, 'db')));
  const data = join(home, 'db');
  const env = { KILN_SELF_DISCOVERY: 'off', KILN_DNS_SD: 'off' };
  const port = String(await freePort());
  const base = ['--home', home];
  const init = await runKiln(['db', 'init', ...base, '--port', port, '--listen', '127.0.0.1', '--clients', '2'], {
    env,
  });
  assert.equal(init.code, 0, init.stderr);
  assert.equal(existsSync(join(data, 'kiln-announcer.pid')), false);
  assert.equal(existsSync(join(data, 'kiln-announcer.log')), false);
  const stop = await runKiln(['db', 'stop', ...base], { env });
  assert.match(stop.stdout, /Database stopped/);
  const start = await runKiln(['db', 'start', ...base], { env });
  assert.equal(start.code, 0, start.stderr);
  assert.equal(existsSync(join(data, 'kiln-announcer.pid')), false);
  const again = await runKiln(['db', 'stop', ...base], { env });
  assert.match(again.stdout, /Database stopped/);
  assert.match((await runKiln(['db', 'stop', ...base], { env })).stdout, /Database was not running/);
});

test('what the announcer may announce: the switches, then db.yaml discovery (defaults on)', (t) => {
  const home = makeTempDir(t, 'kiln-db-channels-');
  const on = { KILN_SELF_DISCOVERY: 'on', KILN_DNS_SD: 'on' };
  assert.deepEqual(announcerChannels(home, on), { multicast: true, dnsSd: true });
  assert.deepEqual(announcerChannels(home, { KILN_SELF_DISCOVERY: 'off', KILN_DNS_SD: '0' }), {
    multicast: false,
    dnsSd: false,
  });
  writeFileSync(join(home, 'db.yaml'), 'discovery:\n  enabled: false\n  dns_sd: true\n');
  assert.deepEqual(announcerChannels(home, on), { multicast: false, dnsSd: true });
  assert.deepEqual(announcerChannels(home, { ...on, KILN_DB_DISCOVERY_DNS_SD: 'false' }), {
    multicast: false,
    dnsSd: false,
  });
});
