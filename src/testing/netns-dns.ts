/**
 * What the DNS-SD tests share beyond the namespaces themselves (src/testing/netns.ts makes those,
 * with makeSegment): discovery switched on inside the namespaces, and waits for a manager and its
 * database to be announced.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NsProcess } from './netns.js';

/**
 * Discovery on for what a test starts inside its namespaces (the test runner's environment turns
 * it off everywhere else): multicast self-discovery and DNS-SD, in the CLI, workers and managers.
 */
export const NAMESPACED_DISCOVERY_ENV: Readonly<NodeJS.ProcessEnv> = Object.freeze({
  KILN_SELF_DISCOVERY: 'on',
  KILN_DNS_SD: 'on',
  KILN_MANAGER_DISCOVERY_ENABLED: 'true',
  KILN_MANAGER_DISCOVERY_DNS_SD: 'true',
});

/** Resolves when the file's text matches (a detached program's log); rejects after timeoutMs. */
export async function waitForFile(file: string, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  let text = '';
  for (;;) {
    text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const match = pattern.exec(text);
    if (match) return match;
    if (Date.now() > deadline) throw new Error(`no ${pattern} in ${file} within ${timeoutMs} ms:\n${text}`);
    await new Promise((resolvePromise) => setTimeout(resolvePromise, 100));
  }
}

/** The database announcer's log under a home's default cluster (src/db/announcer.ts). */
const announcerLog = (home: string): string => join(home, 'db', 'kiln-announcer.log');

/** A manager with its embedded database, both announced (the manager itself, and the announcer). */
export async function waitForManagerAndDatabase(manager: NsProcess, home: string): Promise<void> {
  await manager.waitFor(/"kind":"manager".*registered over DNS-SD/, 60_000);
  await waitForFile(announcerLog(home), /"kind":"database".*registered over DNS-SD/, 30_000);
}
