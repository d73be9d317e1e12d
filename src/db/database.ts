import { createHash } from 'node:crypto';
import pg from 'pg';
import { parse as parseConnectionString } from 'pg-connection-string';
import { UserError } from '../util/errors.js';
import { Kysely, Migrator, PostgresDialect, type MigrationResultSet } from 'kysely';
import { MIGRATIONS } from '../manager/persistence/schema/migrations/index.js';
import { openCluster } from './igniter.js';
import { ADMIN_ROLE, APP_DATABASE, APP_ROLE } from './cluster.js';

export interface DatabaseTarget {
  pool: pg.PoolConfig;
  /** Role to assume after connecting (so objects belong to it, not to the superuser). */
  role?: string;
  /** For messages: where this database is. */
  description: string;
}

/** The local cluster under `data`, reached over its Unix socket. */
export function localDatabaseTarget(data: string, max = 10): DatabaseTarget {
  const { paths, meta } = openCluster(data);
  return {
    pool: { host: paths.socketDir(meta.port), port: meta.port, user: ADMIN_ROLE, database: APP_DATABASE, max },
    role: APP_ROLE,
    description: `local cluster ${paths.requested} (port ${meta.port})`,
  };
}

/**
 * A server named by a libpq-style URL. Parsed the way pg parses it, so the Unix-socket form
 * (`postgresql://kiln@/kiln?host=/run/postgresql`) works too.
 */
export function urlDatabaseTarget(url: string, max = 10): DatabaseTarget {
  if (!/^postgres(ql)?:\/\//.test(url))
    throw new UserError(`database_url: "${url}" is not a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE)`);
  let parsed: ReturnType<typeof parseConnectionString>;
  try {
    parsed = parseConnectionString(url);
  } catch (error) {
    throw new UserError(`database_url: "${url}" cannot be read: ${(error as Error).message}`);
  }
  const host = parsed.host || 'localhost';
  return {
    pool: { connectionString: url, max },
    description: `${host}${host.startsWith('/') ? ' ' : ':'}${parsed.port || 5432}/${parsed.database ?? ''}`,
  };
}

/**
 * The same database for sessions that plan prepared statements once, generically. The scheduler's
 * pick takes arrays and a LIMIT: PostgreSQL estimates a generic `LIMIT $n` at a tenth of the table,
 * so by its own rule it kept planning the pick afresh on every call (measured: 934 plans in 929
 * calls, ~1 ms each, more than running it). Only sessions made for such statements get this.
 */
export function genericPlanTarget(target: DatabaseTarget, max: number): DatabaseTarget {
  const options = [target.pool.options, '-c plan_cache_mode=force_generic_plan'].filter(Boolean).join(' ');
  return { ...target, pool: { ...target.pool, max, options } };
}

export function createPool(target: DatabaseTarget): pg.Pool {
  const pool = new pg.Pool(target.pool);
  pool.on('connect', (client) => {
    // pg-pool listens for errors only on idle clients. A checked-out client between two
    // statements of a transaction whose server goes away (a restart, a fast shutdown) would
    // otherwise raise an unhandled 'error' and end the process. Its next query fails instead,
    // and the pool discards it on release.
    client.on('error', () => undefined);
    preparePlannedStatements(client);
    if (target.role) void client.query(`SET ROLE ${target.role}`).catch(() => undefined);
  });
  return pool;
}

/**
 * One dedicated connection outside the pool (a LISTEN, a session lock), named so other sessions
 * can tell what it is (`application_name`, at most 63 bytes). Errors after connecting are
 * reported through `onLost`, never thrown into the event loop.
 */
export async function connectSession(
  target: DatabaseTarget,
  applicationName: string,
  onLost: (error: Error) => void,
): Promise<pg.Client> {
  const client = new pg.Client({ ...target.pool, application_name: applicationName.slice(0, 63) });
  client.on('error', onLost);
  client.on('end', () => onLost(new Error('the connection ended')));
  try {
    await client.connect();
    if (target.role) await client.query(`SET ROLE ${target.role}`);
  } catch (error) {
    client.removeAllListeners('end');
    await client.end().catch(() => undefined);
    throw error;
  }
  return client;
}

/**
 * A statement whose text starts with this comment runs as a named prepared statement: under the
 * given name, or (`/* prepared *\/`, for statements built from parts) a name derived from the text.
 */
const PREPARED = /^\/\* prepared(?::([a-z_]+))? \*\//;

/** The prepared-statement name of a statement's text, or undefined to run it unprepared. */
function preparedName(text: string): string | undefined {
  const marker = PREPARED.exec(text);
  if (!marker) return undefined;
  // One name per distinct text: node-postgres refuses a name reused with another text.
  return marker[1] ?? `s_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
}

/**
 * Hot statements (marked `/* prepared:NAME *\/` or `/* prepared *\/` at the start) run as named
 * prepared statements: parsed once per connection, and planned once when PostgreSQL settles on a
 * generic plan. Planning a large statement costs more than running it (the scheduler's pick:
 * ~1 ms against ~0.3 ms). Kysely passes text and values only, so the connection's query() adds the name.
 */
function preparePlannedStatements(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  const named = (text: unknown, values: unknown, ...rest: unknown[]): unknown => {
    const name = typeof text === 'string' && Array.isArray(values) ? preparedName(text) : undefined;
    return name ? query({ name, text, values }, ...rest) : query(text, values, ...rest);
  };
  client.query = named as typeof client.query;
}

export function createKysely<DB>(pool: pg.Pool): Kysely<DB> {
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
}

/**
 * Applies pending migrations. Kysely's Postgres adapter takes a transaction-scoped
 * advisory lock, so several managers starting at once migrate one after another.
 */
export async function migrateToLatest(db: Kysely<unknown>): Promise<{ applied: string[]; version: number }> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => MIGRATIONS } });
  const result: MigrationResultSet = await migrator.migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error');
    throw new Error(`migration ${failed?.migrationName ?? ''} failed: ${(result.error as Error).message}`, {
      cause: result.error,
    });
  }
  const applied = (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  return { applied, version: latestVersion() };
}

function latestVersion(): number {
  const names = Object.keys(MIGRATIONS).sort();
  return Number.parseInt(names.at(-1) ?? '0', 10);
}
