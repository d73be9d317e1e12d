import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { computeConnectionLimit, readOpenFilesLimit, type ConnectionLimit } from './limits.js';
import type { ClusterMeta } from './cluster.js';

/**
 * Settings an administrator made by hand in PostgreSQL's own files, which Kiln keeps.
 * PostgreSQL reads postgresql.conf (Kiln's kiln.conf is included at its end), then
 * postgresql.auto.conf (ALTER SYSTEM); the last value read wins.
 */
export interface HandSetting {
  value: number;
  file: 'postgresql.conf' | 'postgresql.auto.conf';
}

/** The line initdb writes; Kiln comments it out at init so that only a hand edit is left active. */
const INITDB_LINE = /^max_connections = \d+\t+# \(change requires restart\)$/;
const SETTING = /^\s*max_connections\s*(?:=\s*|\s+)'?(\d+)'?\s*(?:#.*)?$/i;

/** The last active `max_connections` line of a configuration file's text, initdb's own excepted. */
export function findMaxConnections(text: string): number | undefined {
  let found: number | undefined;
  for (const line of text.split('\n')) {
    if (INITDB_LINE.test(line)) continue;
    const match = SETTING.exec(line);
    if (match?.[1]) found = Number(match[1]);
  }
  return found;
}

/** A max_connections set by hand, from the file PostgreSQL would take it from. */
export function readHandSetMaxConnections(dataDir: string): HandSetting | undefined {
  let found: HandSetting | undefined;
  for (const file of ['postgresql.conf', 'postgresql.auto.conf'] as const) {
    let text: string;
    try {
      text = readFileSync(join(dataDir, file), 'utf8');
    } catch {
      continue;
    }
    const value = findMaxConnections(text);
    if (value !== undefined) found = { value, file };
  }
  return found;
}

/** initdb's postgresql.conf, with its max_connections left to Kiln and kiln.conf included last. */
export function preparePostgresqlConf(text: string, confFile: string): string {
  const lines = text
    .split('\n')
    .map((line) =>
      INITDB_LINE.test(line)
        ? `#${line.replace(/\t+#.*/, '')}\t# set by Kiln in ${confFile} (kiln db set max_connections N); a value set here is kept`
        : line,
    );
  return `${lines.join('\n').replace(/\n*$/, '\n')}\n# Kiln's settings\ninclude_if_exists = '${confFile}'\n`;
}

/**
 * The max_connections the server gets, and why: a hand-set value wins over `kiln db set`,
 * which wins over Kiln's rule (7 + 10 x clients under the open-files ceiling).
 */
export function effectiveConnectionLimit(
  dataDir: string,
  meta: ClusterMeta,
  openFilesLimit = readOpenFilesLimit(),
): ConnectionLimit {
  const hand = readHandSetMaxConnections(dataDir);
  if (hand) return computeConnectionLimit(meta.clients, openFilesLimit, { value: hand.value, source: hand.file });
  if (meta.maxConnections !== undefined)
    return computeConnectionLimit(meta.clients, openFilesLimit, { value: meta.maxConnections, source: 'kiln db set' });
  return computeConnectionLimit(meta.clients, openFilesLimit);
}
