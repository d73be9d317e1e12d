import { spawnSync } from 'node:child_process';

/**
 * Skip reasons for tests that need what a non-root `npm test` may not have. Each is false
 * when the test can run, else one line saying what is missing and how to get it.
 */
export function rootOnly(why: string): string | false {
  return process.getuid?.() === 0 ? false : `needs root: ${why} (run npm test as root to include it)`;
}

const hasPsql = spawnSync('psql', ['--version'], { stdio: 'ignore' }).status === 0;

/** Tests that connect as a studio's client would, with Debian's psql. */
export const needsPsql: string | false = hasPsql
  ? false
  : 'psql is not installed: apt-get install -y postgresql-client as root (scripts/test-prerequisites.sh does it)';
