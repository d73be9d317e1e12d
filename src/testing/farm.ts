import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { startManager, type RunningManager } from '../manager/main.js';
import { MANAGER_DEFAULTS, type ManagerConfig } from '../manager/config.js';
import { startTestCluster, type TestCluster } from './cluster.js';
import type { Clock } from '../util/clock.js';
import { makeTempDir } from './temp.js';

type After = { after: (fn: () => unknown) => void };

/** A fresh database in a test cluster, so tests in one file do not see each other's jobs. */
export async function createTestDatabase(cluster: TestCluster): Promise<string> {
  const name = `kiln_test_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ host: '127.0.0.1', port: cluster.port, user: 'kiln', database: 'kiln' });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  return `postgresql://kiln@127.0.0.1:${cluster.port}/${name}`;
}

export interface TestManager extends RunningManager {
  home: string;
  api: (
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
    // biome-ignore lint/suspicious/noExplicitAny: response bodies are untyped JSON that tests read field by field (as in the *.test.ts override)
  ) => Promise<{ status: number; body: any; headers: Headers }>;
}

/** A real manager on a free port, over a real PostgreSQL database, closed when the test ends. */
export async function startTestManager(
  t: After,
  cluster: TestCluster,
  overrides: Partial<ManagerConfig> = {},
  /** `clock`: the manager's time (a manualClock lets a test set it instead of sleeping). */
  /** `databaseUrl`: join another manager's database (several managers of one farm). */
  options: { clock?: Clock; databaseUrl?: string } = {},
): Promise<TestManager> {
  let manager: RunningManager | undefined;
  const home = makeTempDir(t, 'kiln-manager-', async () => manager?.close());
  const databaseUrl = options.databaseUrl ?? (await createTestDatabase(cluster));
  const config: ManagerConfig = {
    ...MANAGER_DEFAULTS,
    listen: '127.0.0.1:0',
    open: true,
    database_url: databaseUrl,
    data: join(home, 'data'),
    // Tests never send multicast or mDNS on the host's interfaces (discovery tests use namespaces).
    discovery: { enabled: false, dns_sd: false },
    ...overrides,
  };
  manager = await startManager({
    home,
    config,
    log: pino({ level: process.env.KILN_TEST_LOG ?? 'silent' }),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const running = manager;
  const api: TestManager['api'] = async (method, path, body, headers = {}) => {
    const response = await fetch(`${running.url}/api/v1${path}`, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // plain text (logs)
    }
    return { status: response.status, body: parsed, headers: response.headers };
  };
  return Object.assign(running, { home, api });
}

/**
 * A manager with shared storage at `<root>/shared` and the Shaman store switched on (its garbage
 * collection an hour away, so a test's blobs stay put).
 */
export async function startShamanManager(
  t: After,
  cluster: TestCluster,
  root: string,
): Promise<{ m: TestManager; shared: string }> {
  const shared = join(root, 'shared');
  mkdirSync(shared, { recursive: true });
  const m = await startTestManager(t, cluster, {
    shared_storage_path: shared,
    shaman: { enabled: true, gc: { period: 3600, max_age: 3600 } },
  });
  return { m, shared };
}

/** A worker driven by the test through the real worker protocol (HTTP), step by step. */
export class ProtocolWorker {
  id = '';
  token = '';
  constructor(
    readonly manager: TestManager,
    readonly name: string,
    readonly options: { types?: string[]; tags?: string[]; platform?: 'linux' | 'windows' | 'darwin' } = {},
  ) {}

  get auth(): { authorization: string } {
    return { authorization: `Basic ${Buffer.from(`${this.id}:${this.token}`).toString('base64')}` };
  }

  async register(): Promise<this> {
    const types = this.options.types ?? ['render', 'video', 'misc'];
    const response = await this.manager.api('POST', '/worker/register', {
      secret: this.manager.farmSecret,
      name: this.name,
      platform: this.options.platform ?? 'linux',
      supportedTaskTypes: types,
      tags: this.options.tags ?? [],
    });
    if (response.status !== 201) throw new Error(`register failed: ${JSON.stringify(response.body)}`);
    Object.assign(this, response.body);
    const signOn = await this.call('POST', '/worker/sign-on', {
      name: this.name,
      platform: this.options.platform ?? 'linux',
      supportedTaskTypes: types,
      tags: this.options.tags ?? [],
    });
    if (signOn.status !== 200) throw new Error(`sign-on failed: ${JSON.stringify(signOn.body)}`);
    return this;
  }

  call(method: string, path: string, body?: unknown) {
    return this.manager.api(method, path, body, this.auth);
  }

  /** Asks for a task; undefined when none comes within waitMs. */
  async next(waitMs = 5000): Promise<{ id: string; jobId: string; name: string; type: string } | undefined> {
    const response = await this.call('POST', `/worker/task?waitMs=${waitMs}`);
    if (response.status === 204) return undefined;
    if (response.status !== 200) throw new Error(`task request: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  }

  update(taskId: string, update: Record<string, unknown>) {
    return this.call('POST', `/worker/tasks/${taskId}/update`, update);
  }

  async complete(taskId: string): Promise<void> {
    const response = await this.update(taskId, { status: 'completed', log: ['done'] });
    if (response.status !== 204) throw new Error(`complete: ${response.status} ${JSON.stringify(response.body)}`);
  }

  async fail(taskId: string): Promise<void> {
    const response = await this.update(taskId, { status: 'failed', log: ['it broke'] });
    if (response.status !== 204) throw new Error(`fail: ${response.status} ${JSON.stringify(response.body)}`);
  }
}

/** What a test file shares: one PostgreSQL, one manager over it, and a home for the CLI. */
export interface FileFarm {
  cluster: TestCluster;
  manager: TestManager;
  home: string;
}

/**
 * One PostgreSQL and one manager for a whole test file, with a CLI home: started before its
 * first test, everything removed after its last. Call at the top level of the file.
 */
export function useFileFarm(
  hooks: { before: (fn: () => unknown) => void; after: (fn: () => unknown) => void },
  overrides: Partial<ManagerConfig> = {},
  /** Called once all is started, e.g. to fill the file's own variables. */
  onReady: (farm: FileFarm) => void = () => undefined,
): () => FileFarm {
  let farm: FileFarm | undefined;
  const cleanups: Array<() => unknown> = [];
  const scope = { after: (fn: () => unknown) => cleanups.push(fn) };
  hooks.before(async () => {
    const cluster = await startTestCluster(scope);
    const manager = await startTestManager(scope, cluster, overrides);
    farm = { cluster, manager, home: makeTempDir(scope, 'kiln-cli-home-') };
    onReady(farm);
  });
  hooks.after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });
  return () => {
    if (!farm) throw new Error('the file farm is not started yet (use it inside a test)');
    return farm;
  };
}
