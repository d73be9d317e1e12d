import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, freePort } from '../testing/temp.js';
import { runKiln, assertOneLineError } from '../testing/cli.js';
import { psql } from '../testing/pg-client.js';
import { needsPsql } from '../testing/skips.js';
import { writeFileAtomic } from '../util/fs.js';
import { createCertificateAuthority, issueUserCertificate } from './certs.js';

test('cert mode: a user made by `user add` connects with verify-full; others are refused', {
  skip: needsPsql,
}, async (t) => {
  let home = '';
  home = makeTempDir(t, 'kiln-cert-', () => runKiln(['db', 'destroy', '--yes', '--home', home]));
  const port = await freePort();
  const init = await runKiln([
    'db',
    'init',
    '--auth',
    'cert',
    '--port',
    String(port),
    '--listen',
    '127.0.0.1',
    '--home',
    home,
  ]);
  assert.equal(init.code, 0, init.stderr);

  // libpq reads ~/.postgresql by default: point HOME at a fresh folder and let `user add` fill it.
  const userHome = join(home, 'alice-home');
  mkdirSync(userHome);
  const add = await runKiln(['db', 'user', 'add', 'alice', '--home', home], { env: { HOME: userHome } });
  assert.equal(add.code, 0, add.stderr);
  const keyMode = statSync(join(userHome, '.postgresql', 'postgresql.key')).mode & 0o777;
  assert.equal(keyMode, 0o600);

  const conninfo = `host=127.0.0.1 port=${port} user=alice dbname=kiln sslmode=verify-full`;
  const ok = await psql(conninfo, "SELECT current_user || ' ' || ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", {
    HOME: userHome,
  });
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout, 'alice true');

  // No certificate at all.
  const bare = join(home, 'bare-home');
  mkdirSync(bare);
  const noCert = await psql(`host=127.0.0.1 port=${port} user=alice dbname=kiln sslmode=require`, 'SELECT 1', {
    HOME: bare,
  });
  assert.notEqual(noCert.code, 0);
  assert.match(noCert.stderr, /certificate/i);

  // Without TLS.
  const plain = await psql(`host=127.0.0.1 port=${port} user=alice dbname=kiln sslmode=disable`, 'SELECT 1', {
    HOME: userHome,
  });
  assert.notEqual(plain.code, 0);
  assert.match(plain.stderr, /no encryption|pg_hba/);

  // Control: the same connection with sslcert/sslkey/sslrootcert given explicitly, pointing
  // at alice's real files (HOME has none), succeeds; so only the certificate differs below.
  const explicit = (dir: string) =>
    `${conninfo} sslcert=${join(dir, 'postgresql.crt')} sslkey=${join(dir, 'postgresql.key')} sslrootcert=${join(userHome, '.postgresql', 'root.crt')}`;
  const control = await psql(explicit(join(userHome, '.postgresql')), 'SELECT current_user', { HOME: bare });
  assert.equal(control.code, 0, control.stderr);
  assert.equal(control.stdout, 'alice');

  // A certificate for alice signed by another CA.
  const rogue = join(home, 'rogue');
  const otherCa = await createCertificateAuthority('someone else');
  const forged = await issueUserCertificate(otherCa, 'alice');
  await writeFileAtomic(join(rogue, 'postgresql.crt'), forged.cert);
  await writeFileAtomic(join(rogue, 'postgresql.key'), forged.key, 0o600);
  const refused = await psql(
    `${conninfo} sslcert=${join(rogue, 'postgresql.crt')} sslkey=${join(rogue, 'postgresql.key')} sslrootcert=${join(userHome, '.postgresql', 'root.crt')}`,
    'SELECT 1',
  );
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /certificate|alert|ssl/i);
  // The server rejects the handshake: the client hears OpenSSL's "unknown ca" alert...
  const unknownCa = /failed: SSL error: tlsv1\d? alert unknown ca$/;
  assert.match(refused.stderr, unknownCa);
  // ...also in exactly the control's shape (explicit files, nothing in HOME).
  const forgedOnly = await psql(explicit(rogue), 'SELECT 1', { HOME: bare });
  assert.notEqual(forgedOnly.code, 0);
  assert.equal(forgedOnly.stdout, '');
  assert.match(forgedOnly.stderr, unknownCa);
  // ...and the server logs why: alice's certificate does not chain to the Kiln CA.
  const log = readFileSync(join(home, 'db', 'log', 'server.log'), 'utf8');
  assert.match(log, /could not accept SSL connection: certificate verify failed/);
  assert.match(log, /issuer "\/CN=Kiln database CA \(someone else\)/);

  // Running it again reissues the certificate and says so.
  const again = await runKiln(['db', 'user', 'add', 'alice', '--force', '--home', home], { env: { HOME: userHome } });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /alice already existed: certificate reissued/);

  // Bad names and output places: one line each, and no role is made before its files have a home.
  const notAFolder = join(home, 'plain-file');
  writeFileSync(notAFolder, '');
  assertOneLineError(
    await runKiln(['db', 'user', 'add', 'carol', '--out', join(notAFolder, 'certs'), '--home', home]),
    /plain-file is not a folder/,
  );
  assertOneLineError(
    await runKiln(['db', 'user', 'add', 'carol', '--out', '/proc/kiln-nope', '--home', home]),
    /kernel's proc file system/,
  );
  assertOneLineError(
    await runKiln(['db', 'user', 'add', 'pg_monitor', '--out', join(home, 'pgm'), '--home', home]),
    /"pg_monitor" is reserved/,
  );
  assert.equal(existsSync(join(home, 'pgm')), false);
  const carol = await runKiln(['db', 'user', 'add', 'carol', '--out', join(home, 'carol'), '--home', home]);
  assert.equal(carol.code, 0, carol.stderr);
  assert.match(carol.stdout, /User carol created/, 'the failed attempts made no role');

  // A removed user.
  const remove = await runKiln(['db', 'user', 'remove', 'alice', '--home', home]);
  assert.equal(remove.code, 0, remove.stderr);
  const gone = await psql(conninfo, 'SELECT 1', { HOME: userHome });
  assert.notEqual(gone.code, 0);
  assert.match(gone.stderr, /not permitted to log in/);

  // Default rules in cert mode allow only this host's subnets.
  const rules = JSON.parse((await runKiln(['db', 'rules', '--json', '--home', home])).stdout) as Array<{
    cidr: string;
  }>;
  assert.ok(rules.some((rule) => rule.cidr === '127.0.0.0/8'));
  assert.ok(!rules.some((rule) => rule.cidr === '0.0.0.0/0'));
});
