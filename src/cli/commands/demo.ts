import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { action } from '../run.js';
import { withCommonOptions } from '../options.js';
import { managerSettings } from './manager.js';
import type { RunningManager } from '../../manager/main.js';
import { ApiClient, type Task } from '../../client/index.js';
import { DEFAULT_PRIORITY } from '../../jobs/types.js';
import { UserError } from '../../util/errors.js';
import { SECOND } from '../../util/time.js';
import { ensureWritableDir } from '../../util/fs.js';
import { loadNetworkConfig } from '../../config/network-config.js';
import { pickFreePort } from '../../config/dynamic-ports.js';

const KILN_MAIN = fileURLToPath(new URL('../main.js', import.meta.url));

interface DemoFlags {
  home?: string;
  output: string;
  frames: string;
  workers: string;
}

function positive(text: string, field: string, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > max)
    throw new UserError(`--${field} must be a whole number from 1 to ${max}, got "${text}"`, { field });
  return value;
}

/**
 * The whole farm on one machine: the database, a manager and workers, a 1280x720 render
 * job in chunks of 4 and its video. Everything started here is stopped before it returns.
 */
export function registerDemoCommand(program: Command): void {
  withCommonOptions(program.command('demo'))
    .description('render a short film on a farm of this machine: manager, workers, frames and an MP4')
    .option('--output <dir>', "where frames/ and demo.mp4 go (and the demo farm's home, .kiln)", 'kiln-demo')
    .option('--frames <n>', 'how many frames', '48')
    .option('--workers <n>', 'how many workers', '2')
    .action(
      action(async (flags: DemoFlags) => {
        const frames = positive(flags.frames, 'frames', 100_000);
        const workerCount = positive(flags.workers, 'workers', 32);
        const output = resolve(flags.output);
        // Checked before anything starts: a mistake here should not cost a database start.
        ensureWritableDir(output, 'output');
        // The demo's farm lives on loopback: nothing of it (database announcer included) goes on the network.
        process.env.KILN_SELF_DISCOVERY = 'off';
        process.env.KILN_DNS_SD = 'off';
        // A farm of its own (never the studio's ~/.kiln or $KILN_HOME): its jobs and workers stay out
        // of a real farm's lists, and its database listens on loopback only, on a free port.
        const { home, config } = managerSettings({ home: flags.home ?? join(output, '.kiln') });
        mkdirSync(join(home, 'logs'), { recursive: true });
        await keepDatabaseOnLoopback(home);
        const started = Date.now();
        const { default: pino } = await import('pino');
        const { startManager } = await import('../../manager/main.js');
        const log = pino(
          { name: 'kiln-manager' },
          createWriteStream(join(home, 'logs', 'demo-manager.log'), { flags: 'a' }),
        );
        process.stderr.write('Starting the database and the manager...\n');
        const manager = await startManager({
          home,
          config: { ...config, listen: '127.0.0.1:0', open: true, discovery: { enabled: false, dns_sd: false } },
          log,
        });
        const workers: ChildProcess[] = [];
        let interrupted = false;
        const onSignal = (): void => {
          interrupted = true;
        };
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        try {
          for (let n = 1; n <= workerCount; n++) workers.push(startWorker(manager, home, n));
          process.stderr.write(
            `Manager on ${manager.url}, ${workerCount} workers. Rendering ${frames} frames at 1280x720...\n`,
          );
          // The farm is used as any client uses it: through its API.
          const api = new ApiClient({ baseUrl: manager.url });
          const job = await api.submitJob({
            name: 'demo',
            type: 'render',
            frames: `1-${frames}`,
            chunkSize: 4,
            priority: DEFAULT_PRIORITY,
            settings: { renderer: 'builtin', output, width: 1280, height: 720, fps: 24, video: true },
          });
          const status = await follow(api, job.id, () => interrupted);
          const seconds = ((Date.now() - started) / SECOND).toFixed(1);
          if (status !== 'completed') {
            const failed = await firstFailedTask(api, job.id);
            if (!failed) throw new UserError(`the demo job ended ${status} after ${seconds} s`);
            // A failed task's activity carries its command's error (the worker puts the reason there).
            const why = failed.activity.replace(/^failed: /, '');
            throw new UserError(
              `the demo job ended ${status} after ${seconds} s; task "${failed.name}" failed: ${why} (full log: ${manager.services.logs.pathOf(job.id, failed.id)})`,
            );
          }
          const written = readdirSync(join(output, 'frames')).filter((name) => name.endsWith('.png')).length;
          console.log(
            `Done in ${seconds} s: ${written} frames in ${join(output, 'frames')}, video ${join(output, 'demo.mp4')}`,
          );
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          await Promise.all(workers.map(stopChild));
          await manager.close();
        }
      }),
    );
}

/** A demo home's first run writes db.yaml: loopback only, on a port free now (kept for later runs). */
async function keepDatabaseOnLoopback(home: string): Promise<void> {
  const file = join(home, 'db.yaml');
  if (existsSync(file)) return; // a home given with --home keeps its own settings
  const port = await pickFreePort(loadNetworkConfig(home).dynamicPorts);
  writeFileSync(
    file,
    `# written by kiln demo: its database is for this machine only\nlisten: [127.0.0.1]\nport: ${port}\n`,
  );
}

function startWorker(manager: RunningManager, home: string, n: number): ChildProcess {
  const logFile = createWriteStream(join(home, 'logs', `demo-worker-${n}.log`), { flags: 'a' });
  const child = spawn(
    process.execPath,
    [
      KILN_MAIN,
      'worker',
      '--manager',
      manager.url,
      '--home',
      join(home, 'demo-workers', `worker-${n}`),
      '--name',
      `${hostname()}-demo-${n}`,
    ],
    // The demo's workers stay off the network: only its own manager needs them.
    {
      env: { ...process.env, KILN_WORKER_SECRET: manager.farmSecret, KILN_SELF_DISCOVERY: 'off' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout.pipe(logFile);
  child.stderr.pipe(logFile);
  return child;
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolvePromise) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 10 * SECOND);
    child.once('exit', () => {
      clearTimeout(force);
      resolvePromise();
    });
    child.kill('SIGTERM');
  });
}

/** A failed task of the job, else a soft-failed one, looking through every page of its tasks. */
async function firstFailedTask(api: ApiClient, jobId: string): Promise<Task | undefined> {
  let softFailed: Task | undefined;
  for (let offset = 0; ; ) {
    const page = await api.listTasks(jobId, { offset });
    const failed = page.tasks.find((task) => task.status === 'failed');
    if (failed) return failed;
    softFailed ??= page.tasks.find((task) => task.status === 'soft-failed');
    offset += page.tasks.length;
    if (page.tasks.length === 0 || offset >= page.total) return softFailed;
  }
}

/** Shows progress until the job is completed, failed or canceled; returns that status. */
async function follow(api: ApiClient, jobId: string, interrupted: () => boolean): Promise<string> {
  const tty = process.stderr.isTTY;
  const bar = tty
    ? new cliProgress.SingleBar(
        { format: '  {bar} {value}/{total} tasks | {status}', hideCursor: true },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  let job = await api.getJob(jobId);
  bar?.start(job.taskCount, 0, { status: job.status });
  let lastLine = -1;
  for (;;) {
    job = await api.getJob(jobId);
    const completed = job.taskCounts.completed;
    bar?.update(completed, { status: job.status });
    const quarter = Math.floor((completed / job.taskCount) * 4);
    if (!tty && quarter !== lastLine) {
      process.stderr.write(`  ${completed}/${job.taskCount} tasks (${job.status})\n`);
      lastLine = quarter;
    }
    if (['completed', 'failed', 'canceled'].includes(job.status)) break;
    if (interrupted()) {
      await api.setJobStatus(jobId, 'cancel', { reason: 'demo interrupted' });
      bar?.stop();
      throw new UserError('interrupted; the demo job was canceled and everything stopped');
    }
    await sleep(200);
  }
  bar?.stop();
  return job.status;
}
