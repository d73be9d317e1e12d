import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { makeTempDir, freePort } from '../testing/temp.js';
import { runKiln } from '../testing/cli.js';
import { connectFrom } from '../testing/pg-client.js';
import { startTestCluster } from '../testing/cluster.js';
import * as igniter from './igniter.js';

async function canConnect(from: string, port: number): Promise<boolean | string> {
  try {
    const client = await connectFrom(from, { host: '127.0.0.1', port, user: 'kiln', database: 'kiln' });
    await client.query('SELECT 1');
    await client.end();
    return true;
  } catch (error) {
    return (error as Error).message;
  }
}

test('allow and deny apply at once, without a restart', async (t) => {
  const cluster = await startTestCluster(t, { auth: 'trust' });
  const pidBefore = JSON.parse((await runKiln(['db', 'status', '--json', '--data', cluster.data])).stdout).pid;
  assert.equal(await canConnect('127.0.0.2', cluster.port), true);

  const deny = await runKiln(['db', 'deny', '127.0.0.2', '--data', cluster.data]);
  assert.equal(deny.code, 0, deny.stderr);
  assert.match(deny.stdout, /reloaded/);
  assert.match(
    String(await canConnect('127.0.0.2', cluster.port)),
    /pg_hba.conf rejects connection for host "127.0.0.2"/,
  );
  assert.equal(await canConnect('127.0.0.1', cluster.port), true);

  const allow = await runKiln(['db', 'allow', '127.0.0.2/32', '--user', 'kiln', '--data', cluster.data]);
  assert.equal(allow.code, 0, allow.stderr);
  assert.equal(await canConnect('127.0.0.2', cluster.port), true);

  // A network-wide deny beats an allow for one of its hosts.
  await runKiln(['db', 'deny', '127.0.0.0/8', '--data', cluster.data]);
  assert.match(String(await canConnect('127.0.0.1', cluster.port)), /rejects/);

  const status = JSON.parse((await runKiln(['db', 'status', '--json', '--data', cluster.data])).stdout);
  assert.equal(status.pid, pidBefore, 'no restart happened');
});

test('max_connections is 7 + 10 x clients, and set-clients changes it', async (t) => {
  const cluster = await startTestCluster(t, { clients: 3 });
  let status = JSON.parse((await runKiln(['db', 'status', '--json', '--data', cluster.data])).stdout);
  assert.equal(status.connections.max, 37);
  const change = await runKiln(['db', 'set-clients', '5', '--data', cluster.data]);
  assert.equal(change.code, 0, change.stderr);
  assert.match(change.stdout, /max_connections 57/);
  status = JSON.parse((await runKiln(['db', 'status', '--json', '--data', cluster.data])).stdout);
  assert.equal(status.connections.max, 57);
  assert.equal(status.running, true);
});

test('under a lowered open-files limit the figure is capped and init warns', async (t) => {
  let data = '';
  const home = makeTempDir(t, 'kiln-ulimit-', () => igniter.destroy(data));
  data = join(home, 'db');
  const port = await freePort();
  const limited = { shellPrefix: 'ulimit -n 400' };
  const init = await runKiln(
    ['db', 'init', '--clients', '50', '--port', String(port), '--listen', '127.0.0.1', '--data', data],
    limited,
  );
  assert.equal(init.code, 0, init.stderr);
  // 7 + 10 x 50 = 507 wanted; 400 open files - 64 headroom = 336.
  assert.match(init.stdout, /max_connections 336: 7 \+ 10 x 50 clients = 507, capped to the open-files limit 400/);
  assert.match(init.stdout, /warning/);
  const status = JSON.parse((await runKiln(['db', 'status', '--json', '--data', data], limited)).stdout);
  assert.equal(status.connections.max, 336);
  assert.equal(status.connections.capped, true);
});
