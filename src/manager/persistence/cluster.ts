/**
 * The SQL of several managers sharing one database: wake-ups over LISTEN/NOTIFY, the farm
 * leader's advisory lock, who holds it, and the database's clock. The listening and the
 * leadership run on dedicated connections (a `pg.ClientBase`), the rest on the pool.
 */
import { sql } from 'kysely';
import type pg from 'pg';
import type { Db } from './schema/database.js';

/** The channel every manager of a farm listens on (NOTIFY is per database: one farm per database). */
export const FARM_CHANNEL = 'kiln_farm';

/**
 * The advisory lock the leader holds, as two int4 keys (classid, objid in pg_locks). Advisory
 * locks are per database, so farms sharing a server do not contend.
 */
const LEADER_LOCK: readonly [number, number] = [0x6b696c6e, 1]; // 'kiln', 1

/** Starts listening on the farm's channel (the connection receives 'notification' events). */
export async function listenForFarm(client: pg.ClientBase): Promise<void> {
  await client.query(`LISTEN ${FARM_CHANNEL}`);
}

/**
 * Sends payloads on the farm's channel, in order, in one statement (one transaction: listeners
 * receive them together and in this order).
 */
export async function notifyFarm(db: Db, payloads: string[]): Promise<void> {
  if (payloads.length === 0) return;
  await sql`SELECT pg_notify(${FARM_CHANNEL}, p) FROM unnest(${payloads}::text[]) WITH ORDINALITY AS u(p, n) ORDER BY n`.execute(
    db,
  );
}

/** The application_names of this database's sessions that start with `prefix` (the managers' links). */
export async function listSessionsNamed(db: Db, prefix: string): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    SELECT application_name AS name FROM pg_stat_activity
    WHERE datname = current_database() AND application_name LIKE ${`${prefix}%`}`.execute(db);
  return rows.map((row) => row.name);
}

/** Renames a session (what other sessions read in pg_stat_activity). */
export async function renameSession(client: pg.ClientBase, name: string): Promise<void> {
  await client.query('SELECT set_config($1, $2, false)', ['application_name', name.slice(0, 63)]);
}

/** Tries to take the leader's lock on this session; true when this session holds it now. */
export async function tryLeaderLock(client: pg.ClientBase): Promise<boolean> {
  const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [
    ...LEADER_LOCK,
  ]);
  return rows[0]?.locked === true;
}

/** A round trip on the leader's session: fails when the session (and so the lock) is gone. */
export async function pingSession(client: pg.ClientBase): Promise<void> {
  await client.query('SELECT 1');
}

/** The application_name of the session holding the leader's lock of this database, if any. */
export async function leaderSessionName(db: Db): Promise<string | undefined> {
  const { rows } = await sql<{ name: string | null }>`
    SELECT a.application_name AS name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
    WHERE l.locktype = 'advisory' AND l.granted AND l.classid = ${LEADER_LOCK[0]} AND l.objid = ${LEADER_LOCK[1]}
      AND l.objsubid = 2 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
    LIMIT 1`.execute(db);
  return rows[0]?.name ?? undefined;
}

/** The database server's time now (statement_timestamp: this statement's, not the transaction's). */
export async function databaseNow(db: Db): Promise<Date> {
  const { rows } = await sql<{ now: Date }>`SELECT statement_timestamp() AS now`.execute(db);
  const now = rows[0]?.now;
  if (!now) throw new Error('the database did not say its time');
  return new Date(now);
}
