import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

/** Connections PostgreSQL keeps for itself and Kiln's own tools, beyond the clients. */
const BASE_CONNECTIONS = 7;
const CONNECTIONS_PER_CLIENT = 10;
/**
 * Connections share the open-files limit with the server's other files: data and WAL
 * segments, the log, listening sockets. The guidance Kiln follows keeps about one file in
 * seven for those (8,192 files: about 7,000 connections, about 1,200 files kept), and never
 * fewer than 64, PostgreSQL's own floor (it wants ~48 free) with some room.
 */
const FILE_HEADROOM_SHARE = 7;
const MIN_FILE_HEADROOM = 64;
/** Below this PostgreSQL cannot usefully run (superuser_reserved_connections is 3). */
export const MIN_CONNECTIONS = 10;
/** PostgreSQL's own maximum for max_connections. */
export const MAX_CONNECTIONS = 262_143;

/** Where the server's max_connections comes from. */
export type ConnectionSource =
  | 'rule' // 7 + 10 x clients, capped below the open-files limit
  | 'kiln db set' // an administrator's figure, kept in kiln.json
  | 'postgresql.conf' // set by hand in the file PostgreSQL documents; Kiln leaves it alone
  | 'postgresql.auto.conf'; // ALTER SYSTEM, which PostgreSQL reads last

export interface ConnectionLimit {
  clients: number;
  /** 7 + 10 x clients */
  wanted: number;
  /** What the server is configured with. */
  maxConnections: number;
  source: ConnectionSource;
  openFilesLimit: number | undefined;
  /** The most connections the open-files limit leaves room for (undefined: no limit). */
  ceiling: number | undefined;
  /** The rule's figure was lowered to the ceiling. */
  capped: boolean;
  /** A figure set by hand is above the ceiling: the server may run out of files. */
  overCeiling: boolean;
  /** One sentence saying how the figure was chosen. */
  explanation: string;
}

/** Files kept for everything that is not a client connection. */
export function fileHeadroom(openFilesLimit: number): number {
  return Math.max(MIN_FILE_HEADROOM, Math.ceil(openFilesLimit / FILE_HEADROOM_SHARE));
}

/** The connection ceiling an open-files limit allows. */
export function connectionCeiling(openFilesLimit: number | undefined): number | undefined {
  if (openFilesLimit === undefined) return undefined;
  return Math.max(MIN_CONNECTIONS, openFilesLimit - fileHeadroom(openFilesLimit));
}

/**
 * The server's max_connections: Kiln's rule unless `fixed` says an administrator chose
 * the figure (with `kiln db set` or by hand), which is then kept as it is.
 */
export function computeConnectionLimit(
  clients: number,
  openFilesLimit = readOpenFilesLimit(),
  fixed?: { value: number; source: Exclude<ConnectionSource, 'rule'> },
): ConnectionLimit {
  const wanted = BASE_CONNECTIONS + CONNECTIONS_PER_CLIENT * clients;
  const ceiling = connectionCeiling(openFilesLimit);
  const rule = `${BASE_CONNECTIONS} + ${CONNECTIONS_PER_CLIENT} x ${clients} clients = ${wanted}`;
  const kept = openFilesLimit === undefined ? 0 : fileHeadroom(openFilesLimit);
  const base = { clients, wanted, openFilesLimit, ceiling };
  if (fixed) {
    const overCeiling = ceiling !== undefined && fixed.value > ceiling;
    const where = fixed.source === 'kiln db set' ? 'set with `kiln db set`' : `set by hand in ${fixed.source}`;
    const room = overCeiling
      ? `; above the ${ceiling} the open-files limit ${openFilesLimit} leaves room for (raise it with ulimit -n)`
      : '';
    return {
      ...base,
      maxConnections: fixed.value,
      source: fixed.source,
      capped: false,
      overCeiling,
      explanation: `max_connections ${fixed.value}: ${where}, kept as it is (Kiln's rule would give ${Math.min(wanted, ceiling ?? wanted)}: ${rule})${room}`,
    };
  }
  const maxConnections = Math.min(wanted, ceiling ?? wanted);
  const capped = maxConnections < wanted;
  const explanation = capped
    ? `max_connections ${maxConnections}: ${rule}, capped to the open-files limit ${openFilesLimit} minus ${kept} kept for the server's other files (data, WAL, log); raise it (ulimit -n) to allow ${wanted}`
    : `max_connections ${maxConnections}: ${rule}${ceiling === undefined ? ' (no open-files limit)' : ` (the open-files limit ${openFilesLimit} allows up to ${ceiling}, keeping ${kept} for the server's other files)`}`;
  return { ...base, maxConnections, source: 'rule', capped, overCeiling: false, explanation };
}

/** The soft RLIMIT_NOFILE of this process, which the server inherits. */
export function readOpenFilesLimit(): number | undefined {
  try {
    const limits = readFileSync('/proc/self/limits', 'utf8');
    const match = /^Max open files\s+(\S+)/m.exec(limits);
    if (match?.[1]) return match[1] === 'unlimited' ? undefined : Number(match[1]);
  } catch {
    // not Linux: ask a shell
  }
  const result = spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' });
  const value = result.stdout?.trim();
  return value && /^\d+$/.test(value) ? Number(value) : undefined;
}
