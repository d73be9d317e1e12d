import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Kysely } from 'kysely';
import {
  createKysely,
  createPool,
  localDatabaseTarget,
  migrateToLatest,
  urlDatabaseTarget,
  type DatabaseTarget,
} from '../db/database.js';
import { ensureRunning, stop as stopDatabase } from '../db/igniter.js';
import { DB_DEFAULTS, DbConfigSchema } from '../db/config.js';
import { loadConfig } from '../config/load.js';
import { UserError } from '../util/errors.js';
import type { ManagerConfig } from './config.js';
import type { Db } from './persistence/schema/database.js';
import type { Database } from './persistence/schema/tables.js';
import { isDatabaseUnavailable } from './persistence/errors.js';

export interface FarmDatabase {
  db: Db;
  /** Stops the embedded cluster if this manager started it. */
  stopEmbedded?: () => Promise<unknown>;
}

/**
 * The farm's database, migrated: the server at `database_url`, else the igniter's cluster under
 * `home` (made and started on demand, the embedded default).
 */
export async function openFarmDatabase(home: string, config: ManagerConfig, log: Logger): Promise<FarmDatabase> {
  let stopEmbedded: (() => Promise<unknown>) | undefined;
  const embedded = async (): Promise<DatabaseTarget> => {
    const dbConfig = loadConfig('db', DbConfigSchema, DB_DEFAULTS, { home });
    const data = resolve(dbConfig.data ?? join(home, 'db'));
    const { created, started } = await ensureRunning({
      data,
      port: dbConfig.port,
      auth: dbConfig.auth,
      clients: dbConfig.clients,
      listen: dbConfig.listen,
    });
    if (created) log.info({ data }, 'created the database cluster');
    if (started) stopEmbedded = () => stopDatabase(data);
    return localDatabaseTarget(data, 20);
  };
  const target = config.database_url ? urlDatabaseTarget(config.database_url, 20) : await embedded();
  const pool = createPool(target);
  // An idle connection dropping (database restart) must not crash the manager.
  pool.on('error', (error) =>
    log.warn({ code: (error as { code?: string }).code, reason: error.message }, 'database connection lost'),
  );
  const db = createKysely<Database>(pool);
  try {
    const { applied, version } = await migrateToLatest(db as unknown as Kysely<unknown>);
    log.info({ applied, version, database: target.description }, 'database ready');
  } catch (error) {
    await db.destroy();
    await stopEmbedded?.();
    if (isDatabaseUnavailable(error) || isDatabaseUnavailable((error as Error).cause)) {
      const cause = ((error as Error).cause ?? error) as Error;
      throw new UserError(`cannot reach the database (${target.description}): ${cause.message}`, {
        code: 'database_unavailable',
      });
    }
    throw error;
  }
  return { db, ...(stopEmbedded ? { stopEmbedded } : {}) };
}
