import type { ConnectionLimit, ConnectionSource } from './limits.js';
import { readRunningState } from './server-process.js';
import { withAdminClient } from './admin.js';
import { APP_DATABASE, openCluster, type ClusterMeta } from './cluster.js';
import type { AccessRule } from './access-rules.js';
import { effectiveConnectionLimit } from './hand-settings.js';
import { readEditedKilnConf } from './server-config.js';
import { findHbaEdit } from './rules.js';

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
  connections: {
    inUse?: number;
    max: number;
    /** Where the configured figure comes from: Kiln's rule, `kiln db set`, or a file edited by hand. */
    source: ConnectionSource;
    explanation: string;
    capped: boolean;
    /** A figure set by hand above what the open-files limit leaves room for. */
    overCeiling: boolean;
  };
  /** Files Kiln generates that were edited by hand since: what `start` or `allow` will do about it. */
  handEdits: string[];
  schemaVersion?: number | null;
}

export async function clusterStatus(data: string): Promise<ClusterStatus> {
  const { paths, meta } = openCluster(data);
  const state = readRunningState(paths);
  const limit: ConnectionLimit = effectiveConnectionLimit(paths.dataDir, meta);
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
    connections: connectionsOf(limit),
    handEdits: handEditsOf(paths, meta),
  };
  if (!state.running) return status;
  await withAdminClient(paths, meta, async (client) => {
    const { rows } = await client.query<{ in_use: string; max: string; version: string }>(
      `SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend') AS in_use,
              current_setting('max_connections') AS max,
              current_setting('server_version') AS version`,
    );
    const [row] = rows;
    if (row === undefined) throw new Error('The server-status query returned no row');
    status.connections = {
      ...connectionsOf(limit),
      inUse: Number(row.in_use),
      max: Number(row.max),
      // The running server's figure wins; the explanation is for the configured one.
      explanation:
        Number(row.max) === limit.maxConnections
          ? limit.explanation
          : `max_connections ${row.max} (restart to apply: ${limit.explanation})`,
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

function connectionsOf(limit: ConnectionLimit): ClusterStatus['connections'] {
  return {
    max: limit.maxConnections,
    source: limit.source,
    explanation: limit.explanation,
    capped: limit.capped,
    overCeiling: limit.overCeiling,
  };
}

function handEditsOf(paths: ReturnType<typeof openCluster>['paths'], meta: ClusterMeta): string[] {
  const edits: string[] = [];
  if (readEditedKilnConf(paths, meta) !== undefined)
    edits.push('kiln.conf: edited by hand; the next start keeps its max_connections and rewrites the rest');
  const hba = findHbaEdit(paths, meta);
  if (hba)
    edits.push(
      `pg_hba.conf: edited by hand (${hba.first}${hba.changed > 1 ? ` and ${hba.changed - 1} more` : ''}); \`kiln db allow|deny\` refuse until given --force`,
    );
  return edits;
}
