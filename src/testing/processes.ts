import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { KILN_MAIN, NO_HOST_MDNS_ENV } from './cli.js';
import { waitFor, SECOND } from '../util/time.js';

export interface KilnProcess {
  child: ChildProcess;
  output: () => string;
  /** Ends the process (SIGTERM, then SIGKILL after a grace period) and waits for it. */
  stop: () => Promise<void>;
  kill: (signal: NodeJS.Signals) => Promise<void>;
}

/** Starts `kiln ARGS...` as a real process and keeps its output for assertions. */
export function startKiln(args: string[], env: NodeJS.ProcessEnv = {}): KilnProcess {
  const child = spawn(process.execPath, [KILN_MAIN, ...args], {
    env: { ...NO_HOST_MDNS_ENV, ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const force = setTimeout(() => child.kill('SIGKILL'), 15 * SECOND);
    await kill('SIGTERM');
    clearTimeout(force);
  };
  return { child, output: () => output, stop, kill };
}

/** A `kiln manager` process on a fixed port (so it can be restarted there), settings from manager.yaml. */
export async function startManagerProcess(
  home: string,
  port: number,
  settings: Record<string, unknown> = {},
  dbPort?: number,
): Promise<KilnProcess & { url: string }> {
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, 'manager.yaml'), YAML.stringify({ open: true, discovery: { enabled: false }, ...settings }));
  // The embedded database on a port of its own, so tests can run side by side.
  if (dbPort) writeFileSync(join(home, 'db.yaml'), YAML.stringify({ port: dbPort, listen: ['127.0.0.1'] }));
  const proc = startKiln(['manager', '--home', home, '--listen', `127.0.0.1:${port}`]);
  await waitFor(() => proc.output().includes('Kiln manager on') || proc.child.exitCode !== null, {
    timeoutMs: 60 * SECOND,
    what: 'the manager to start',
  });
  if (proc.child.exitCode !== null) throw new Error(`the manager exited: ${proc.output()}`);
  return Object.assign(proc, { url: `http://127.0.0.1:${port}` });
}

export function startWorkerProcess(home: string, managerUrl: string, name: string, secret: string): KilnProcess {
  return startKiln(['worker', '--home', home, '--manager', managerUrl, '--name', name], { KILN_WORKER_SECRET: secret });
}
