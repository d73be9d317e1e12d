import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { makeTempDir, freePort } from '../testing/temp.js';
import { runKiln } from '../testing/cli.js';
import { psql } from '../testing/pg-client.js';
import { needsPsql, rootOnly } from '../testing/skips.js';
import { waitFor } from '../util/time.js';
import * as igniter from './igniter.js';
import { MIGRATIONS } from '../manager/persistence/schema/migrations/index.js';

test('trust mode: init, psql connects as kiln, status reports the server', { skip: needsPsql }, async (t) => {
  let home = '';
  home = makeTempDir(t, 'kiln-trust-', () => runKiln(['db', 'destroy', '--yes', '--home', home]));
  const port = await freePort();
  const init = await runKiln([
    'db',
    'init',
    '--auth',
    'trust',
    '--port',
    String(port),
    '--listen',
    '127.0.0.1',
    '--home',
    home,
  ]);
  assert.equal(init.code, 0, init.stderr);
  assert.match(init.stdout, /max_connections 107: 7 \+ 10 x 10 clients = 107/);

  const query = await psql(`host=127.0.0.1 port=${port} user=kiln dbname=kiln`, 'SELECT current_user');
  assert.equal(query.code, 0, query.stderr);
  assert.equal(query.stdout, 'kiln');

  const status = await runKiln(['db', 'status', '--json', '--home', home]);
  assert.equal(status.code, 0, status.stderr);
  const json = JSON.parse(status.stdout);
  assert.equal(json.running, true);
  assert.equal(json.port, port);
  assert.match(json.version, /^\d+\.\d+/);
  assert.equal(json.connections.max, 107);
  assert.equal(json.auth, 'trust');
  assert.ok(json.binaries.bindir);

  const stop = await runKiln(['db', 'stop', '--home', home]);
  assert.equal(stop.code, 0, stop.stderr);
  const stopped = JSON.parse((await runKiln(['db', 'status', '--json', '--home', home])).stdout);
  assert.equal(stopped.running, false);
});

test('Started as root, the postmaster runs as kiln_db', {
  skip: rootOnly('checks the postmaster runs as kiln_db when Kiln is started as root'),
}, async (t) => {
  let data = '';
  const home = makeTempDir(t, 'kiln-root-', () => igniter.destroy(data));
  data = join(home, 'db');
  const init = await runKiln([
    'db',
    'init',
    '--port',
    String(await freePort()),
    '--listen',
    '127.0.0.1',
    '--data',
    data,
  ]);
  assert.equal(init.code, 0, init.stderr);

  // PostgreSQL refuses root; the igniter runs it as kiln_db.
  const passwd = /^kiln_db:x:(\d+):/m.exec(readFileSync('/etc/passwd', 'utf8'))?.[1];
  assert.ok(passwd, 'kiln_db exists');
  const id = spawnSync('id', ['-u', 'kiln_db'], { encoding: 'utf8' });
  assert.equal(id.status, 0, id.stderr);
  const kilnDbUid = id.stdout.trim();
  assert.equal(kilnDbUid, passwd);
  assert.notEqual(kilnDbUid, '0');
  // The data directory belongs to it (PostgreSQL insists on that).
  assert.equal(String(statSync(data).uid), kilnDbUid);

  const checkPostmaster = async (when: string): Promise<void> => {
    const status = await runKiln(['db', 'status', '--json', '--data', data]);
    assert.equal(status.code, 0, status.stderr);
    const json = JSON.parse(status.stdout);
    assert.equal(json.running, true, when);
    assert.equal(json.serverUser, 'kiln_db');
    // The pid file's first line names the postmaster; status reports that process.
    const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    assert.equal(json.pid, pid, when);
    const procStatus = readFileSync(`/proc/${pid}/status`, 'utf8');
    assert.match(procStatus, /^Name:\s+postgres/m, `${when}: pid ${pid} is the postmaster`);
    // Real, effective, saved and file-system uid: all kiln_db's.
    const uids = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(procStatus);
    assert.ok(uids, 'the Uid line of the postmaster');
    assert.deepEqual(uids.slice(1), [kilnDbUid, kilnDbUid, kilnDbUid, kilnDbUid], when);
    const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${json.pid}/status`, 'utf8'))?.[1];
    assert.equal(uid, passwd);
  };
  await checkPostmaster('after init');

  // And when started again by `kiln db start`.
  assert.equal((await runKiln(['db', 'stop', '--data', data])).code, 0);
  const start = await runKiln(['db', 'start', '--data', data]);
  assert.equal(start.code, 0, start.stderr);
  await checkPostmaster('after start');
});

test('SIGKILL of the postmaster, then start: recovers with committed rows intact', { skip: needsPsql }, async (t) => {
  let data = '';
  const home = makeTempDir(t, 'kiln-crash-', () => igniter.destroy(data));
  data = join(home, 'db');
  const port = await freePort();
  await igniter.initCluster({ data, port, auth: 'trust', clients: 1, listen: ['127.0.0.1'] });
  const conn = `host=127.0.0.1 port=${port} user=kiln dbname=kiln`;
  const insert = await psql(conn, 'CREATE TABLE frames (n int); INSERT INTO frames SELECT generate_series(1, 1000);');
  assert.equal(insert.code, 0, insert.stderr);

  const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  process.kill(pid, 'SIGKILL');
  await waitFor(
    () => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    },
    { what: 'postmaster to die' },
  );

  const start = await runKiln(['db', 'start', '--data', data]);
  assert.equal(start.code, 0, start.stderr);
  const count = await psql(conn, 'SELECT count(*), sum(n) FROM frames');
  assert.equal(count.stdout, '1000|500500');
});

test('migrations: applied once, concurrently from several processes, version shown by status', async (t) => {
  let data = '';
  const home = makeTempDir(t, 'kiln-migrate-', () => igniter.destroy(data));
  data = join(home, 'db');
  await igniter.initCluster({ data, port: await freePort(), auth: 'trust', clients: 1, listen: ['127.0.0.1'] });
  const runs = await Promise.all([1, 2, 3].map(() => runKiln(['db', 'migrate', '--data', data])));
  for (const run of runs) assert.equal(run.code, 0, run.stderr);
  assert.equal(runs.filter((run) => run.stdout.startsWith('Applied')).length, 1, runs.map((r) => r.stdout).join('\n'));
  const status = JSON.parse((await runKiln(['db', 'status', '--json', '--data', data])).stdout);
  assert.equal(status.schemaVersion, Object.keys(MIGRATIONS).length);
});

test('run as root with a private home: data lives where kiln_db can reach it', {
  skip: rootOnly('checks a cluster under a 0700 home is kept where kiln_db can reach it'),
}, async (t) => {
  let data = '';
  const home = makeTempDir(t, 'kiln-private-', () => igniter.destroy(data));
  const { chmodSync, lstatSync, existsSync } = await import('node:fs');
  chmodSync(home, 0o700); // like /root or mktemp -d
  data = join(home, 'db');
  const init = await runKiln([
    'db',
    'init',
    '--port',
    String(await freePort()),
    '--listen',
    '127.0.0.1',
    '--data',
    data,
  ]);
  assert.equal(init.code, 0, init.stderr);
  assert.match(init.stdout, /cannot enter/);
  assert.ok(lstatSync(data).isSymbolicLink());
  const status = JSON.parse((await runKiln(['db', 'status', '--json', '--data', data])).stdout);
  assert.equal(status.running, true);
  assert.ok(status.realData.startsWith('/var/lib/kiln/clusters/'));
  const destroy = await runKiln(['db', 'destroy', '--yes', '--data', data]);
  assert.equal(destroy.code, 0, destroy.stderr);
  assert.equal(existsSync(status.realData), false);
  assert.equal(existsSync(data), false);
});
