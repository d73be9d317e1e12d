import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { freePort, makeTempDir } from './temp.js';
import { runKiln } from './cli.js';
import { startManagerProcess, startWorkerProcess, type KilnProcess } from './processes.js';
import * as igniter from '../db/igniter.js';
import { waitFor, SECOND } from '../util/time.js';

type After = { after: (fn: () => unknown) => void };

/** A farm of real processes: `kiln manager` (embedded PostgreSQL) and `kiln worker`s. */
export interface ProcessFarm {
  home: string;
  port: number;
  manager: KilnProcess & { url: string };
  workers: Map<string, KilnProcess>;
  secret: string;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are untyped JSON that tests read field by field (as in the *.test.ts override)
  api: (method: string, path: string, body?: unknown) => Promise<{ status: number; body: any; headers: Headers }>;
  restartManager: () => Promise<void>;
  addWorker: (name: string) => KilnProcess;
}

export async function startProcessFarm(
  t: After,
  options: { workers: number; settings?: Record<string, unknown> },
): Promise<ProcessFarm> {
  const all: KilnProcess[] = [];
  let farm: ProcessFarm | undefined;
  const home = makeTempDir(t, 'kiln-e2e-', async () => {
    if (process.env.KILN_TEST_DUMP)
      for (const p of all) process.stderr.write(`---- ${p.child.spawnargs.slice(2, 4).join(' ')}\n${p.output()}\n`);
    await Promise.all(all.map((p) => p.stop()));
    await farm?.manager.stop();
    // The database outlives a killed manager: stop it (and remove it) here.
    await igniter.destroy(join(home, 'db')).catch(() => undefined);
  });
  const port = await freePort();
  const dbPort = await freePort();
  const managerHome = join(home, 'manager');
  const manager = await startManagerProcess(managerHome, port, options.settings, dbPort);
  all.push(manager);
  const secret = (await runKiln(['manager', 'secret', '--home', managerHome])).stdout.trim();
  const api: ProcessFarm['api'] = async (method, path, body) => {
    const request = () =>
      fetch(`${farm?.manager.url ?? manager.url}/api/v1${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    // One retry on a reset socket under load; a manager that really died fails the test below.
    const response = await request().catch(() => request());
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: response.status, body: parsed, headers: response.headers };
  };
  const workers = new Map<string, KilnProcess>();
  const addWorker = (name: string): KilnProcess => {
    const worker = startWorkerProcess(join(home, 'workers', name), manager.url, name, secret);
    workers.set(name, worker);
    all.push(worker);
    return worker;
  };
  for (let n = 1; n <= options.workers; n++) addWorker(`w${n}`);
  const started: ProcessFarm = {
    home: managerHome,
    port,
    manager,
    workers,
    secret,
    api,
    addWorker,
    restartManager: async () => {
      const next = await startManagerProcess(managerHome, port, options.settings, dbPort);
      all.push(next);
      started.manager = next;
    },
  };
  farm = started;
  // The database of the embedded manager lives under the manager's home.
  started.home = managerHome;
  await waitFor(
    async () =>
      ((await api('GET', '/workers')).body.workers as Array<{ status: string }>).filter((w) => w.status === 'awake')
        .length === options.workers,
    {
      timeoutMs: 30 * SECOND,
      what: 'the workers to sign on',
    },
  );
  return started;
}

// biome-ignore lint/suspicious/noExplicitAny: the job's JSON body, read field by field by the tests' assertions
export async function waitForJob(farm: ProcessFarm, jobId: string, timeoutMs = 120 * SECOND): Promise<any> {
  return waitFor(
    async () => {
      const response = await farm.api('GET', `/jobs/${jobId}`).catch(() => undefined);
      const body = response?.body;
      return ['completed', 'failed', 'canceled'].includes(body?.status) ? body : undefined;
    },
    { timeoutMs, intervalMs: 250, what: `job ${jobId} to finish` },
  );
}

/**
 * A command for `command` jobs that records when each frame starts and ends and in which
 * worker (its parent pid), so a test can prove no frame ran on two workers at once.
 */
export function writeFrameRecorder(dir: string): { script: string; journal: string } {
  const script = join(dir, 'record-frame.mjs');
  const journal = join(dir, 'journal.txt');
  writeFileSync(
    script,
    `import { appendFileSync } from 'node:fs';
const [journal, frame, ms] = process.argv.slice(2);
appendFileSync(journal, \`start \${frame} \${process.ppid} \${Date.now()}\\n\`);
await new Promise((resolve) => setTimeout(resolve, Number(ms)));
appendFileSync(journal, \`end \${frame} \${process.ppid} \${Date.now()}\\n\`);
`,
  );
  return { script, journal };
}
