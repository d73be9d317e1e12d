import { copyFileSync, chownSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { UserError } from '../util/errors.js';
import { checkRoleName, parseCidr, renderHba, withAllow, withDeny, type AccessRule } from './access-rules.js';
import { reloadConfiguration } from './admin.js';
import { openCluster, writeMeta, writeOwnedFile, type ClusterMeta, type ClusterPaths } from './cluster.js';
import { readRunningState } from './server-process.js';

const digest = (text: string): string => createHash('sha256').update(text).digest('hex');

/** How pg_hba.conf differs from what Kiln wrote there: the first changed line, and how many. */
export interface HbaEdit {
  changed: number;
  first: string;
}

/**
 * pg_hba.conf is Kiln's, made from its rules, but the PostgreSQL way to change access is to
 * edit it by hand. Such an edit is noticed so that the next `allow` or `deny` does not lose it.
 */
export function findHbaEdit(paths: ClusterPaths, meta: ClusterMeta): HbaEdit | undefined {
  let text: string;
  try {
    text = readFileSync(paths.hba, 'utf8');
  } catch {
    return undefined;
  }
  const expected = renderHba(meta.rules, meta.auth);
  if (text === expected || digest(text) === meta.hbaWritten) return undefined;
  const significant = (body: string): string[] =>
    body
      .split('\n')
      .map((line) => line.replace(/#.*/, '').trim().replace(/\s+/g, ' '))
      .filter(Boolean);
  const ours = significant(expected);
  const theirs = significant(text);
  const added = theirs.filter((line) => !ours.includes(line)).map((line) => `added "${line}"`);
  const removed = ours.filter((line) => !theirs.includes(line)).map((line) => `removed "${line}"`);
  const changes = [...added, ...removed];
  // Only comments, spacing or order changed: still an edit (order matters in pg_hba.conf).
  return { changed: changes.length, first: changes[0] ?? 'comments, spacing or line order changed' };
}

export interface RulesChange {
  rules: AccessRule[];
  reloaded: boolean;
  /** Where the hand-edited pg_hba.conf was kept when --force replaced it. */
  savedEdit?: string;
}

async function updateRules(
  data: string,
  change: (rules: AccessRule[]) => AccessRule[],
  options: { force?: boolean },
): Promise<RulesChange> {
  const { paths, meta, user } = openCluster(data);
  const next: ClusterMeta = { ...meta, rules: change(meta.rules) };
  const edit = findHbaEdit(paths, meta);
  let savedEdit: string | undefined;
  if (edit && !options.force) {
    const more = edit.changed > 1 ? ` and ${edit.changed - 1} more` : '';
    throw new UserError(
      `pg_hba.conf was edited by hand (${edit.first}${more}); Kiln rebuilds it from its rules (\`kiln db rules\`): add the edit with \`kiln db allow|deny\`, or pass --force to replace it (the edited file is kept beside it)`,
      { field: 'pg_hba.conf', code: 'edited_by_hand' },
    );
  }
  if (edit) {
    savedEdit = `${paths.hba}.edited-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    copyFileSync(paths.hba, savedEdit);
    if (user) chownSync(savedEdit, user.uid, user.gid);
  }
  const hba = renderHba(next.rules, next.auth);
  await writeOwnedFile(paths.hba, hba, 0o600, user);
  await writeMeta(paths, { ...next, hbaWritten: digest(hba) }, user);
  const running = readRunningState(paths).running;
  if (running) await reloadConfiguration(paths, next);
  return { rules: next.rules, reloaded: running, savedEdit };
}

export function allow(
  data: string,
  cidr: string,
  options: { user?: string; database?: string; force?: boolean } = {},
): Promise<RulesChange> {
  const rule = {
    cidr: parseCidr(cidr),
    user: checkRoleName(options.user ?? 'all', 'user'),
    database: checkRoleName(options.database ?? 'all', 'database'),
  };
  return updateRules(data, (rules) => withAllow(rules, rule), options);
}

export function deny(data: string, cidr: string, options: { force?: boolean } = {}): Promise<RulesChange> {
  const network = parseCidr(cidr);
  return updateRules(data, (rules) => withDeny(rules, network), options);
}
