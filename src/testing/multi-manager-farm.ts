import { join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import YAML from 'yaml';
import { freePort, makeTempDir } from './temp.js';
import { runKiln } from './cli.js';
import { startManagerProcess, startWorkerProcess, type KilnProcess } from './processes.js';
import { startTestCluster } from './cluster.js';
import { createTestDatabase } from './farm.js';
import { waitFor, SECOND } from '../util/time.js';

type After = { after: (fn: () => unknown) => void };

/** Several `kiln manager` processes on one PostgreSQL database, and `kiln worker`s that know them all. */
export interface MultiManagerFarm {
  databaseUrl: string;
  managers: Array<KilnProcess & { url: string }>;
  workers: Map<string, KilnProcess>;
  /** Every manager's URL, comma-separated (what `--manager` and KILN_MANAGER take). */
  managerList: string;
  /** A request to the first manager that answers (the test's own view of the farm). */
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are untyped JSON that tests read field by field
  api: (method: string, path: string, body?: unknown) => Promise<{ status: number; body: any }>;
}

export async function startMultiManagerFarm(
  t: After,
  options: {
    managers: number;
    workers: number;
    /** manager.yaml of every manager. */
    settings?: Record<string, unknown>;
    /** worker.yaml of every worker. */
    workerSettings?: Record<string, unknown>;
    /** Which managers worker n (from 1) knows, in order; default: all, the list rotated by n - 1. */
    managersOf?: (n: number, urls: string[]) => string[];
  },
): Promise<MultiManagerFarm> {
  const all: KilnProcess[] = [];
  const home = makeTempDir(t, 'kiln-multi-', async () => {
    if (process.env.KILN_TEST_DUMP)
      for (const p of all) process.stderr.write(`---- ${p.child.spawnargs.slice(2, 4).join(' ')}\n${p.output()}\n`);
    await Promise.all(all.map((p) => p.stop()));
  });
  const cluster = await startTestCluster(t, { clients: 4 });
  const databaseUrl = await createTestDatabase(cluster);
  // Task logs and previews live in the managers' data directory: the farm's managers share one.
  const data = join(home, 'manager-data');
  mkdirSync(data, { recursive: true });
  const settings = { database_url: databaseUrl, data, ...options.settings };
  const managers: MultiManagerFarm['managers'] = [];
  for (let n = 1; n <= options.managers; n++) {
    const manager = await startManagerProcess(join(home, `manager${n}`), await freePort(), settings);
    all.push(manager);
    managers.push(manager);
  }
  const secret = (await runKiln(['manager', 'secret', '--home', join(home, 'manager1')])).stdout.trim();
  const urls = managers.map((m) => m.url);
  const workers = new Map<string, KilnProcess>();
  for (let n = 1; n <= options.workers; n++) {
    // Each worker starts on another manager (the list rotated), so every manager serves some.
    const order = options.managersOf?.(n, urls) ?? [
      ...urls.slice((n - 1) % urls.length),
      ...urls.slice(0, (n - 1) % urls.length),
    ];
    const workerHome = join(home, 'workers', `w${n}`);
    mkdirSync(workerHome, { recursive: true });
    if (options.workerSettings) writeFileSync(join(workerHome, 'worker.yaml'), YAML.stringify(options.workerSettings));
    const worker = startWorkerProcess(workerHome, order.join(','), `w${n}`, secret);
    workers.set(`w${n}`, worker);
    all.push(worker);
  }
  const api: MultiManagerFarm['api'] = async (method, path, body) => {
    let lastError: unknown;
    for (const url of urls) {
      try {
        const response = await fetch(`${url}/api/v1${path}`, {
          method,
          headers: body === undefined ? {} : { 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await response.text();
        return { status: response.status, body: text ? JSON.parse(text) : undefined };
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError;
  };
  await waitFor(
    async () =>
      ((await api('GET', '/workers')).body.workers as Array<{ status: string }>).filter((w) => w.status === 'awake')
        .length === options.workers,
    { timeoutMs: 30 * SECOND, what: 'the workers to sign on' },
  );
  return { databaseUrl, managers, workers, managerList: urls.join(','), api };
}
