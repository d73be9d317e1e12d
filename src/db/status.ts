import { computeConnectionLimit, type ConnectionLimit } from './limits.js';
import { readRunningState } from './server-process.js';
import { withAdminClient } from './admin.js';
import { openCluster } from './igniter.js';
import { APP_DATABASE, type ClusterMeta } from './cluster.js';
import type { AccessRule } from './access-rules.js';

export interface ClusterStatus {
  data: string;
  /** The directory the data actually lives in, when `data` is a symlink to it. */
  realData?: string;
  running: boolean;
  pid?: number;
  port: number;
  listen: string[];
  version: string;
  binaries: ClusterMeta['binaries'];
  serverUser?: string;
  auth: ClusterMeta['auth'];
  rules: AccessRule[];
  users: string[];
  connections: { inUse?: number; max: number; explanation: string; capped: boolean };
  schemaVersion?: number | null;
}

export async function clusterStatus(data: string): Promise<ClusterStatus> {
  const { paths, meta } = openCluster(data);
  const state = readRunningState(paths);
  const limit: ConnectionLimit = computeConnectionLimit(meta.clients);
  const status: ClusterStatus = {
    data: paths.requested,
    realData: paths.dataDir !== paths.requested ? paths.dataDir : undefined,
    running: state.running,
    pid: state.pid,
    port: meta.port,
    listen: meta.listen,
    version: meta.binaries.version,
    binaries: meta.binaries,
    serverUser: meta.serverUser,
    auth: meta.auth,
    rules: meta.rules,
    users: meta.users,
    connections: { max: limit.maxConnections, explanation: limit.explanation, capped: limit.capped },
  };
  if (!state.running) return status;
  await withAdminClient(paths, meta, async (client) => {
    const { rows } = await client.query<{ in_use: string; max: string; version: string }>(
      `SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend') AS in_use,
              current_setting('max_connections') AS max,
              current_setting('server_version') AS version`,
    );
    const row = rows[0]!;
    status.connections = {
      inUse: Number(row.in_use),
      max: Number(row.max),
      // The running server's figure wins; the explanation is for the configured one.
      explanation:
        Number(row.max) === limit.maxConnections
          ? limit.explanation
          : `max_connections ${row.max} (restart to apply: ${limit.explanation})`,
      capped: limit.capped,
    };
    status.version = row.version;
  });
  status.schemaVersion = await withAdminClient(
    paths,
    meta,
    async (client) => {
      const { rows } = await client.query<{ exists: boolean }>(
        "SELECT to_regclass('public.kysely_migration') IS NOT NULL AS exists",
      );
      if (!rows[0]?.exists) return null;
      const latest = await client.query<{ name: string }>(
        'SELECT name FROM kysely_migration ORDER BY name DESC LIMIT 1',
      );
      return latest.rows[0] ? Number.parseInt(latest.rows[0].name, 10) : null;
    },
    APP_DATABASE,
  ).catch(() => null);
  return status;
}
