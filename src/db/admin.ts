import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { ADMIN_ROLE, type ClusterMeta, type ClusterPaths } from './cluster.js';

/**
 * A superuser session over the cluster's Unix socket. The socket lives in a 0700 folder
 * of the server user, so only that user and root can open it: no password, no TLS needed.
 */
export async function withAdminClient<T>(
  paths: ClusterPaths,
  meta: ClusterMeta,
  fn: (client: pg.Client) => Promise<T>,
  database = 'postgres',
): Promise<T> {
  const client = new pg.Client({ host: paths.socketDir(meta.port), port: meta.port, user: ADMIN_ROLE, database });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Quotes an identifier for SQL (role and database names come from users). */
export const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/**
 * Asks the postmaster to re-read its configuration and waits until new sessions see it:
 * a backend forked after the reload reports a later pg_conf_load_time().
 */
export async function reloadConfiguration(paths: ClusterPaths, meta: ClusterMeta): Promise<void> {
  const before = await withAdminClient(paths, meta, async (client) => {
    const loaded = await configurationLoadTime(client);
    await client.query('SELECT pg_reload_conf()');
    return loaded;
  });
  for (let attempt = 0; attempt < 100; attempt++) {
    const now = await withAdminClient(paths, meta, configurationLoadTime);
    if (now > before) return;
    await sleep(20);
  }
}

/** When the server last read its configuration, in epoch milliseconds. */
async function configurationLoadTime(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ t: Date }>('SELECT pg_conf_load_time() AS t');
  const [row] = rows;
  if (row === undefined) throw new Error('SELECT pg_conf_load_time() returned no row');
  return row.t.getTime();
}
