import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { makeTempDir, freePort } from '../testing/temp.js';
import { runKiln, assertOneLineError } from '../testing/cli.js';
import { startTestCluster } from '../testing/cluster.js';

test('bad input on an existing cluster: one-line errors, nothing changed', async (t) => {
  const cluster = await startTestCluster(t);
  const meta = readFileSync(join(cluster.data, 'kiln.json'), 'utf8');
  const hba = readFileSync(join(cluster.data, 'pg_hba.conf'), 'utf8');

  assertOneLineError(await runKiln(['db', 'init', '--data', cluster.data, '--port', String(await freePort())]), /already exists/);
  assertOneLineError(await runKiln(['db', 'start', '--data', cluster.data]), /already running \(pid \d+/);
  assertOneLineError(await runKiln(['db', 'allow', '300.1.2.3/8', '--data', cluster.data]), /invalid CIDR "300.1.2.3\/8"/);
  assertOneLineError(await runKiln(['db', 'deny', 'not-a-network', '--data', cluster.data]), /invalid CIDR/);
  assertOneLineError(await runKiln(['db', 'user', 'add', 'bob', '--data', cluster.data, '--out', join(cluster.home, 'bob')]), /cert mode.*trust/);
  assertOneLineError(await runKiln(['db', 'destroy', '--data', cluster.data]), /confirm/);
  assertOneLineError(await runKiln(['db', 'set-clients', 'many', '--data', cluster.data]), /invalid clients "many"/);

  assert.equal(readFileSync(join(cluster.data, 'kiln.json'), 'utf8'), meta);
  assert.equal(readFileSync(join(cluster.data, 'pg_hba.conf'), 'utf8'), hba);
  assert.equal(existsSync(join(cluster.home, 'bob')), false);
  const status = JSON.parse((await runKiln(['db', 'status', '--json', '--data', cluster.data])).stdout);
  assert.equal(status.running, true, 'the failed commands left the server running');
});

test('bad input before a cluster exists: one-line errors, nothing created', async (t) => {
  const home = makeTempDir(t);
  const data = join(home, 'db');

  assertOneLineError(await runKiln(['db', 'init', '--auth', 'kerberos', '--data', data]), /db\.auth: must be one of trust, cert, got "kerberos" \(from command line\)/);
  assertOneLineError(await runKiln(['db', 'init', '--port', '99999', '--data', data]), /db\.port: must be an integer from 1 to 65535/);
  assertOneLineError(
    await runKiln(['db', 'init', '--data', data], { env: { KILN_DB_CLIENTS: 'lots' } }),
    /db\.clients: .*got "lots" \(from KILN_DB_CLIENTS\)/,
  );
  assertOneLineError(await runKiln(['db', 'status', '--data', data]), /no Kiln database cluster/);

  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.after(() => blocker.close());
  const port = (blocker.address() as { port: number }).port;
  assertOneLineError(await runKiln(['db', 'init', '--port', String(port), '--listen', '127.0.0.1', '--data', data]), new RegExp(`port ${port} is already in use`));
  assert.equal(existsSync(data), false, 'nothing was created');
});

test('start on a port taken since init: clear error, the cluster stays as it was', async (t) => {
  const cluster = await startTestCluster(t);
  assert.equal((await runKiln(['db', 'stop', '--data', cluster.data])).code, 0);
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(cluster.port, '127.0.0.1', resolve));
  t.after(() => blocker.close());
  assertOneLineError(await runKiln(['db', 'start', '--data', cluster.data]), new RegExp(`port ${cluster.port} is already in use`));
  blocker.close();
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal((await runKiln(['db', 'start', '--data', cluster.data])).code, 0);
});
