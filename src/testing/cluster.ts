import { join } from 'node:path';
import * as igniter from '../db/igniter.js';
import type { AuthMode } from '../db/config.js';
import { makeTempDir, freePort } from './temp.js';

export interface TestCluster {
  home: string;
  data: string;
  port: number;
}

/**
 * A real PostgreSQL cluster made by the igniter on a free port in a temp dir,
 * destroyed (server stopped, files removed) when the test ends, pass or fail.
 */
export async function startTestCluster(
  t: { after: (fn: () => unknown) => void },
  options: { auth?: AuthMode; clients?: number; listen?: string[] } = {},
): Promise<TestCluster> {
  let data = '';
  // Stop the server before its files go, also when the test failed.
  const home = makeTempDir(t, 'kiln-test-', () => igniter.destroy(data));
  data = join(home, 'db');
  const port = await freePort();
  await igniter.initCluster({
    data,
    port,
    auth: options.auth ?? 'trust',
    clients: options.clients ?? 2,
    listen: options.listen ?? ['127.0.0.1'],
  });
  return { home, data, port };
}

/**
 * One cluster for a whole test file (started before its first test, destroyed after its
 * last); each test then makes its own database on it. Call at the top level of the file.
 */
export function useFileCluster(hooks: {
  before: (fn: () => unknown) => void;
  after: (fn: () => unknown) => void;
}): () => TestCluster {
  let cluster: TestCluster | undefined;
  const cleanups: Array<() => unknown> = [];
  hooks.before(async () => {
    cluster = await startTestCluster({ after: (fn) => cleanups.push(fn) });
  });
  hooks.after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });
  return () => {
    if (!cluster) throw new Error('the file cluster is not started yet (use it inside a test)');
    return cluster;
  };
}
