/**
 * Which database the manager's data lives in, decided in one place for `kiln manager` and for
 * the CLI commands that open it directly (`kiln manager secret`, `token`): `database_url`
 * (`--database-url`) when given, and then nothing is started; else the igniter's cluster under
 * the home (`db.yaml` `data`, default `<home>/db`).
 */
import { join, resolve } from 'node:path';
import { loadConfig } from '../config/load.js';
import { ClusterPaths } from '../db/cluster.js';
import { DB_DEFAULTS, DbConfigSchema } from '../db/config.js';
import { localDatabaseTarget, urlDatabaseTarget, type DatabaseTarget } from '../db/database.js';
import { ensureRunning, stop as stopCluster } from '../db/igniter.js';
import { readRunningState } from '../db/server-process.js';
import { UserError } from '../util/errors.js';
import type { ManagerConfig } from './config.js';

export interface ChosenDatabase {
  target: DatabaseTarget;
  /** The embedded cluster's folder; undefined with a database URL. */
  data?: string | undefined;
  /** True when this call created the embedded cluster. */
  created: boolean;
  /** Stops the embedded cluster when this call started it (undefined otherwise). */
  stop?: (() => Promise<unknown>) | undefined;
}

export interface DatabaseChoiceOptions {
  /** Connections of the pool. */
  maxConnections: number;
  /**
   * 'start': create and start the embedded cluster as needed (the manager); 'running': it must
   * run already (a one-off command must not leave a server behind).
   */
  embedded: 'start' | 'running';
}

export async function chooseDatabase(
  home: string,
  config: Pick<ManagerConfig, 'database_url'>,
  options: DatabaseChoiceOptions,
): Promise<ChosenDatabase> {
  if (config.database_url)
    return { target: urlDatabaseTarget(config.database_url, options.maxConnections), created: false };
  const dbConfig = loadConfig('db', DbConfigSchema, DB_DEFAULTS, { home });
  const data = resolve(dbConfig.data ?? join(home, 'db'));
  if (options.embedded === 'running') {
    if (!readRunningState(new ClusterPaths(data)).running)
      throw new UserError(`the database in ${data} is not running; start the manager (or \`kiln db start\`) first`);
    return { target: localDatabaseTarget(data, options.maxConnections), data, created: false };
  }
  const { created, started } = await ensureRunning({
    data,
    home,
    port: dbConfig.port,
    auth: dbConfig.auth,
    clients: dbConfig.clients,
    listen: dbConfig.listen,
  });
  return {
    target: localDatabaseTarget(data, options.maxConnections),
    data,
    created,
    stop: started ? () => stopCluster(data) : undefined,
  };
}
