import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, statSync, symlinkSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { runKiln } from '../testing/cli.js';
import { startTestCluster } from '../testing/cluster.js';
import { needsPsql, rootOnly } from '../testing/skips.js';
import { lookupAccount } from './user-files.js';

/** A system user with a home, removed (home and all) when the test ends. */
function makeSystemUser(t: { after: (fn: () => unknown) => void }): {
  name: string;
  uid: number;
  gid: number;
  home: string;
} {
  const name = `kt_${randomBytes(4).toString('hex')}`;
  const made = spawnSync('useradd', ['--create-home', '--shell', '/bin/sh', name], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  t.after(() => {
    // userdel leaves a home it does not own (a test may hand it to root): remove it by path too.
    const home = lookupAccount(name)?.home;
    spawnSync('userdel', ['--remove', name], { stdio: 'ignore' });
    if (home?.includes(name)) rmSync(home, { recursive: true, force: true });
  });
  const account = lookupAccount(name);
  assert.ok(account?.home, `${name} has a home`);
  return account;
}

test("cert mode, run as root: `user add NAME` writes into the system user NAME's ~/.postgresql, as that user", {
  skip: rootOnly('creates a system user and writes its certificate into its home') || needsPsql,
}, async (t) => {
  const cluster = await startTestCluster(t, { auth: 'cert' });
  const alice = makeSystemUser(t);
  const rootKey = join(homedir(), '.postgresql', 'postgresql.key');
  const rootKeyBefore = existsSync(rootKey) ? readFileSync(rootKey, 'utf8') : undefined;

  const add = await runKiln(['db', 'user', 'add', alice.name, '--data', cluster.data]);
  assert.equal(add.code, 0, add.stderr);
  const dir = join(alice.home, '.postgresql');
  assert.match(add.stdout, new RegExp(`key ${dir}/postgresql.key \\(0600, owned by ${alice.name}\\)`));
  const dirInfo = statSync(dir);
  assert.deepEqual([dirInfo.uid, dirInfo.gid, dirInfo.mode & 0o777], [alice.uid, alice.gid, 0o700]);
  for (const [file, mode] of [
    ['postgresql.crt', 0o644],
    ['postgresql.key', 0o600],
    ['root.crt', 0o644],
  ] as const) {
    const info = statSync(join(dir, file));
    assert.deepEqual([info.uid, info.gid, info.mode & 0o777], [alice.uid, alice.gid, mode], file);
  }
  assert.equal(
    existsSync(rootKey) ? readFileSync(rootKey, 'utf8') : undefined,
    rootKeyBefore,
    "root's own key is untouched",
  );

  // alice, logged in as herself, connects with what libpq finds in her home, nothing else.
  const psql = spawnSync(
    'psql',
    [
      `host=127.0.0.1 port=${cluster.port} user=${alice.name} dbname=kiln sslmode=verify-full`,
      '-XAtc',
      'SELECT current_user',
    ],
    {
      uid: alice.uid,
      gid: alice.gid,
      cwd: alice.home,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: alice.home, PGCONNECT_TIMEOUT: '5' },
    },
  );
  assert.equal(psql.status, 0, psql.stderr);
  assert.equal(psql.stdout.trim(), alice.name);

  // A link she plants where the key goes is replaced, never written through by root.
  const victim = join(cluster.home, 'victim');
  writeFileSync(victim, 'root-owned\n', { mode: 0o644 });
  rmSync(join(dir, 'postgresql.key'));
  symlinkSync(victim, join(dir, 'postgresql.key'));
  const again = await runKiln(['db', 'user', 'add', alice.name, '--force', '--data', cluster.data]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(readFileSync(victim, 'utf8'), 'root-owned\n');
  assert.equal(statSync(victim).uid, 0);
  assert.ok(lstatSync(join(dir, 'postgresql.key')).isFile(), 'the link was replaced by her key');
});

test('run as root: --out still decides, and a name with no system user says where the files went', {
  skip: rootOnly('checks where `user add` writes when run as root'),
}, async (t) => {
  const cluster = await startTestCluster(t, { auth: 'cert' });
  const bob = makeSystemUser(t);
  const out = join(cluster.home, 'bob-certs');
  const add = await runKiln(['db', 'user', 'add', bob.name, '--out', out, '--data', cluster.data]);
  assert.equal(add.code, 0, add.stderr);
  assert.equal(statSync(join(out, 'postgresql.key')).mode & 0o777, 0o600);
  assert.equal(existsSync(join(bob.home, '.postgresql')), false, '--out wins over the home');

  const fakeHome = join(cluster.home, 'root-home');
  const nobody = await runKiln(['db', 'user', 'add', 'kiln_no_such_user', '--data', cluster.data], {
    env: { HOME: fakeHome },
  });
  assert.equal(nobody.code, 0, nobody.stderr);
  assert.match(
    nobody.stdout,
    /note: no system user "kiln_no_such_user" here, so the files went to .*root-home\/.postgresql/,
  );
  assert.equal(statSync(join(fakeHome, '.postgresql', 'postgresql.key')).mode & 0o777, 0o600);
});

test('a key makes it to the owner only whole: a home the user cannot write in is refused before any role is made', {
  skip: rootOnly('needs a system user whose home it cannot write in'),
}, async (t) => {
  const cluster = await startTestCluster(t, { auth: 'cert' });
  const carol = makeSystemUser(t);
  spawnSync('chown', ['root:root', carol.home]);
  spawnSync('chmod', ['0755', carol.home]);
  const add = await runKiln(['db', 'user', 'add', carol.name, '--data', cluster.data]);
  assert.notEqual(add.code, 0);
  assert.match(add.stderr, /^kiln: cannot create [^\n]*\/\.postgresql: permission denied\n$/);
  const again = await runKiln([
    'db',
    'user',
    'add',
    carol.name,
    '--out',
    join(cluster.home, 'carol'),
    '--data',
    cluster.data,
  ]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, new RegExp(`User ${carol.name} created`), 'the refused attempt made no role');
});
