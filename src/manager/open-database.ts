import type { Logger } from 'pino';
import type { Kysely } from 'kysely';
import { createKysely, createPool, genericPlanTarget, migrateToLatest, type DatabaseTarget } from '../db/database.js';
import { chooseDatabase } from './database-choice.js';
import { UserError } from '../util/errors.js';
import type { ManagerConfig } from './config.js';
import type { Db } from './persistence/schema/database.js';
import type { Database } from './persistence/schema/tables.js';
import { isDatabaseUnavailable } from './persistence/errors.js';

export interface FarmDatabase {
  db: Db;
  /** One session for the scheduler's rounds (they never overlap), planning its statements once. */
  schedulerDb: Db;
  /** Closes both. */
  close(): Promise<void>;
  /** Where it is (dedicated sessions, such as the farm link's LISTEN, connect there too). */
  target: DatabaseTarget;
  /** Stops the embedded cluster if this manager started it. */
  stopEmbedded?: () => Promise<unknown>;
}

/**
 * The farm's database, migrated: the server at `database_url`, else the igniter's cluster under
 * `home` (made and started on demand, the embedded default).
 */
export async function openFarmDatabase(home: string, config: ManagerConfig, log: Logger): Promise<FarmDatabase> {
  const database = await chooseDatabase(home, config, { maxConnections: 20, embedded: 'start' });
  if (database.created) log.info({ data: database.data }, 'created the database cluster');
  const { target, stop: stopEmbedded } = database;
  const open = (of: DatabaseTarget): Db => {
    const pool = createPool(of);
    // An idle connection dropping (database restart) must not crash the manager.
    pool.on('error', (error) =>
      log.warn({ code: (error as { code?: string }).code, reason: error.message }, 'database connection lost'),
    );
    return createKysely<Database>(pool);
  };
  const db = open(target);
  const schedulerDb = open(genericPlanTarget(target, 1));
  try {
    const { applied, version } = await migrateToLatest(db as unknown as Kysely<unknown>);
    log.info({ applied, version, database: target.description }, 'database ready');
  } catch (error) {
    await schedulerDb.destroy();
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
  const close = async (): Promise<void> => {
    await schedulerDb.destroy();
    await db.destroy();
  };
  return { db, schedulerDb, close, target, ...(stopEmbedded ? { stopEmbedded } : {}) };
}
