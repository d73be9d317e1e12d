import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, freePort } from '../testing/temp.js';
import { runKiln, assertOneLineError } from '../testing/cli.js';
import { startTestCluster } from '../testing/cluster.js';
import { withAdminClient } from './admin.js';
import { openCluster } from './cluster.js';
import * as igniter from './igniter.js';

const status = async (data: string, shellPrefix?: string) => {
  const result = await runKiln(['db', 'status', '--json', '--data', data], { shellPrefix });
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout);
};

const restart = async (data: string) => {
  const result = await runKiln(['db', 'restart', '--data', data]);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout;
};

/** Rewrites a configuration file in place, as an administrator's editor would. */
const edit = (file: string, change: (text: string) => string): void =>
  writeFileSync(file, change(readFileSync(file, 'utf8')));

test('under 8,192 open files: about 7,000 connections, the server runs with them, and init says why', async (t) => {
  let data = '';
  const home = makeTempDir(t, 'kiln-cap-', () => igniter.destroy(data));
  data = join(home, 'db');
  const limited = 'ulimit -n 8192';
  const init = await runKiln(
    ['db', 'init', '--clients', '1000', '--port', String(await freePort()), '--listen', '127.0.0.1', '--data', data],
    { shellPrefix: limited },
  );
  assert.equal(init.code, 0, init.stderr);
  assert.match(
    init.stdout,
    /max_connections 7021: 7 \+ 10 x 1000 clients = 10007, capped to the open-files limit 8192 minus 1171 kept for the server's other files/,
  );
  assert.match(init.stdout, /warning: the open-files limit caps connections at 7021, below the 10007 wanted/);
  const json = await status(data, limited);
  assert.equal(json.running, true);
  assert.equal(json.connections.max, 7021, 'the running server has the figure');
  assert.equal(json.connections.source, 'rule');
  assert.equal(json.connections.capped, true);
});

test('a max_connections set by hand is kept; `kiln db set` is the other way; status says where it came from', async (t) => {
  const cluster = await startTestCluster(t, { clients: 2 });
  const conf = join(cluster.data, 'postgresql.conf');
  let json = await status(cluster.data);
  assert.deepEqual([json.connections.max, json.connections.source], [27, 'rule']);

  // The seed's way: edit postgresql.conf, restart.
  edit(conf, (text) => text.replace(/^#max_connections = \d+.*$/m, 'max_connections = 300'));
  await restart(cluster.data);
  json = await status(cluster.data);
  assert.deepEqual([json.connections.max, json.connections.source], [300, 'postgresql.conf']);
  assert.match(json.connections.explanation, /set by hand in postgresql.conf, kept as it is/);
  assert.match(readFileSync(join(cluster.data, 'kiln.conf'), 'utf8'), /^# max_connections: left to postgresql.conf$/m);
  assertOneLineError(
    await runKiln(['db', 'set', 'max_connections', '200', '--data', cluster.data]),
    /max_connections is set by hand in postgresql.conf \(300\)/,
  );

  // Without the hand edit, `kiln db set` chooses the figure, and restarts keep it.
  edit(conf, (text) => text.replace('max_connections = 300\n', ''));
  const set = await runKiln(['db', 'set', 'max_connections', '200', '--data', cluster.data]);
  assert.equal(set.code, 0, set.stderr);
  assert.match(set.stdout, /max_connections 200: set with `kiln db set`/);
  assert.match(set.stdout, /restarted/);
  await restart(cluster.data);
  json = await status(cluster.data);
  assert.deepEqual([json.connections.max, json.connections.source], [200, 'kiln db set']);

  // A hand edit of kiln.conf is reported, then kept by the next start rather than overwritten.
  edit(join(cluster.data, 'kiln.conf'), (text) => text.replace('max_connections = 200', 'max_connections = 150'));
  json = await status(cluster.data);
  assert.match(json.handEdits.join('\n'), /kiln.conf: edited by hand/);
  assert.match(await restart(cluster.data), /kiln.conf was edited by hand: keeping its max_connections 150/);
  json = await status(cluster.data);
  assert.deepEqual([json.connections.max, json.connections.source, json.handEdits], [150, 'kiln db set', []]);

  // ALTER SYSTEM, which PostgreSQL reads last, is reported too.
  const { paths, meta } = openCluster(cluster.data);
  await withAdminClient(paths, meta, (client) => client.query('ALTER SYSTEM SET max_connections = 120'));
  await restart(cluster.data);
  json = await status(cluster.data);
  assert.deepEqual([json.connections.max, json.connections.source], [120, 'postgresql.auto.conf']);
  await withAdminClient(paths, meta, (client) => client.query('ALTER SYSTEM RESET max_connections'));

  const auto = await runKiln(['db', 'set', 'max_connections', 'auto', '--data', cluster.data]);
  assert.equal(auto.code, 0, auto.stderr);
  json = await status(cluster.data);
  assert.deepEqual([json.connections.max, json.connections.source], [27, 'rule']);
  const human = await runKiln(['db', 'status', '--data', cluster.data]);
  assert.match(human.stdout, /in use of 27 \(from Kiln's rule\)/);

  assertOneLineError(
    await runKiln(['db', 'set', 'max_connections', '5', '--data', cluster.data]),
    /invalid max_connections "5": must be a whole number from 10/,
  );
  assertOneLineError(
    await runKiln(['db', 'set', 'shared_buffers', '1GB', '--data', cluster.data]),
    /unknown setting "shared_buffers".*postgresql.conf/,
  );
});

test('a hand-edited pg_hba.conf: allow refuses in one line, status names the edit, --force keeps a copy', async (t) => {
  const cluster = await startTestCluster(t, { auth: 'trust' });
  const hba = join(cluster.data, 'pg_hba.conf');
  edit(hba, (text) => `${text}host all all 10.9.0.0/16 trust\n`);
  const before = { hba: readFileSync(hba, 'utf8'), meta: readFileSync(join(cluster.data, 'kiln.json'), 'utf8') };

  assertOneLineError(
    await runKiln(['db', 'allow', '10.1.0.0/16', '--data', cluster.data]),
    /pg_hba.conf was edited by hand \(added "host all all 10.9.0.0\/16 trust"\).*--force/,
  );
  assertOneLineError(await runKiln(['db', 'deny', '10.2.0.0/16', '--data', cluster.data]), /edited by hand/);
  assert.equal(readFileSync(hba, 'utf8'), before.hba, 'the edit is still there');
  assert.equal(readFileSync(join(cluster.data, 'kiln.json'), 'utf8'), before.meta);
  assert.match(
    (await status(cluster.data)).handEdits.join('\n'),
    /pg_hba.conf: edited by hand \(added "host all all 10.9.0.0\/16 trust"\)/,
  );

  const forced = await runKiln(['db', 'allow', '10.1.0.0/16', '--force', '--data', cluster.data]);
  assert.equal(forced.code, 0, forced.stderr);
  const kept = /kept as (\S+pg_hba\.conf\.edited-\S+)\./.exec(forced.stdout)?.[1];
  assert.ok(kept, forced.stdout);
  assert.equal(readFileSync(kept, 'utf8'), before.hba, 'the hand-edited file is kept whole');
  const now = readFileSync(hba, 'utf8');
  assert.match(now, /10\.1\.0\.0\/16 trust/);
  assert.doesNotMatch(now, /10\.9\.0\.0/);
  // Kiln's own file is not taken for a hand edit.
  const deny = await runKiln(['db', 'deny', '10.2.0.0/16', '--data', cluster.data]);
  assert.equal(deny.code, 0, deny.stderr);
  assert.deepEqual((await status(cluster.data)).handEdits, []);
});
