import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

/** Connections PostgreSQL keeps for itself and Kiln's own tools, beyond the clients. */
export const BASE_CONNECTIONS = 7;
export const CONNECTIONS_PER_CLIENT = 10;
/**
 * File descriptors left for everything that is not a client connection: data and WAL
 * files, the log, listening sockets, and PostgreSQL's own floor (it wants ~48 free).
 */
export const FILE_HEADROOM = 64;
/** Below this PostgreSQL cannot usefully run (superuser_reserved_connections is 3). */
export const MIN_CONNECTIONS = 10;

export interface ConnectionLimit {
  clients: number;
  /** 7 + 10 x clients */
  wanted: number;
  /** What the server is configured with. */
  maxConnections: number;
  openFilesLimit: number | undefined;
  capped: boolean;
  /** One sentence saying how the figure was chosen. */
  explanation: string;
}

export function computeConnectionLimit(clients: number, openFilesLimit = readOpenFilesLimit()): ConnectionLimit {
  const wanted = BASE_CONNECTIONS + CONNECTIONS_PER_CLIENT * clients;
  const ceiling = openFilesLimit === undefined ? Infinity : Math.max(MIN_CONNECTIONS, openFilesLimit - FILE_HEADROOM);
  const maxConnections = Math.min(wanted, ceiling);
  const capped = maxConnections < wanted;
  const rule = `${BASE_CONNECTIONS} + ${CONNECTIONS_PER_CLIENT} x ${clients} clients = ${wanted}`;
  const explanation = capped
    ? `max_connections ${maxConnections}: ${rule}, capped to the open-files limit ${openFilesLimit} minus ${FILE_HEADROOM} kept for other files; raise it (ulimit -n) to allow ${wanted}`
    : `max_connections ${maxConnections}: ${rule}${openFilesLimit === undefined ? '' : ` (open-files limit ${openFilesLimit} leaves room)`}`;
  return { clients, wanted, maxConnections, openFilesLimit, capped, explanation };
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
