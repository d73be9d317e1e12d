import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../util/errors.js';
import { sql } from 'kysely';
import { createKysely, createPool, localDatabaseTarget, urlDatabaseTarget } from './database.js';
import { startTestCluster } from '../testing/cluster.js';
import * as igniter from './igniter.js';

test('urlDatabaseTarget reads TCP and Unix-socket URLs and refuses what is not one', () => {
  assert.equal(urlDatabaseTarget('postgresql://kiln@db.studio:7533/kiln').description, 'db.studio:7533/kiln');
  assert.equal(
    urlDatabaseTarget('postgres://kiln@/kiln?host=/run/postgresql&port=7533').description,
    '/run/postgresql 7533/kiln',
  );
  assert.equal(urlDatabaseTarget('postgresql://kiln@/kiln?host=%2Ftmp%2Fpg').description, '/tmp/pg 5432/kiln');
  for (const bad of ['db.studio:7533', 'http://db/kiln', 'kiln']) {
    assert.throws(
      () => urlDatabaseTarget(bad),
      (error: unknown) => error instanceof UserError && /^database_url: /.test(error.message),
      bad,
    );
  }
});

test('a connection held in a transaction survives its server stopping: the next query fails, the process goes on', async (t) => {
  const cluster = await startTestCluster(t);
  const pool = createPool(localDatabaseTarget(cluster.data, 2));
  const db = createKysely(pool);
  // Closed before the cluster goes (after-hooks run in the order they were added).
  pool.on('error', () => undefined);
  t.after(() => db.destroy());
  const outcome = db.transaction().execute(async (trx) => {
    await sql`SELECT 1`.execute(trx);
    // Between two statements, the server shuts down (fast: it terminates every backend).
    await igniter.stop(cluster.data);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await sql`SELECT 2`.execute(trx);
  });
  await assert.rejects(outcome);
  await igniter.start(cluster.data);
  const { rows } = await sql<{ n: number }>`SELECT 3 AS n`.execute(db);
  assert.equal(rows[0]!.n, 3, 'the pool serves again once the server is back');
});
