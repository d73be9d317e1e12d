/**
 * `kiln io hold` and `kiln io status`: the foreground side of I/O priority from the command line.
 * `hold` keeps background I/O (worker copies and encodes, Shaman uploads...) paused while a
 * command runs, for some seconds, or until interrupted; `status` asks a host's listener.
 */
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { action } from '../run.js';
import { withCommonOptions } from '../options.js';
import { printJson } from '../format.js';
import { resolveHome } from '../../config/home.js';
import { IoPriority, ioSettings, localAddress, queryIoStatus, type IoStatus } from '../../io/index.js';
import { UserError } from '../../util/errors.js';

interface HoldFlags {
  home?: string;
  port?: string;
  seconds?: string;
}

function parsePort(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535)
    throw new UserError(`--port must be an integer from 1 to 65535, got "${text}"`, { field: 'port' });
  return port;
}

/** Resolves when SIGINT or SIGTERM arrives (or `ms` passes, when given). */
function untilInterrupted(ms?: number): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    const timer = ms === undefined ? undefined : setTimeout(done, ms);
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}

/** Runs the command with the terminal; SIGINT/SIGTERM go to it. Resolves with its exit code. */
function runHeldCommand(argv: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const [program, ...args] = argv as [string, ...string[]];
    const child = spawn(program, args, { stdio: 'inherit' });
    const forward = (signal: NodeJS.Signals): void => void child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    const cleanUp = (): void => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
    };
    child.once('error', (error: NodeJS.ErrnoException) => {
      cleanUp();
      reject(
        new UserError(
          error.code === 'ENOENT' ? `program not found: ${program}` : `cannot run ${program}: ${error.message}`,
        ),
      );
    });
    child.once('exit', (code, signal) => {
      cleanUp();
      resolve(code ?? (signal ? 128 + (signalNumber(signal) ?? 0) : 1));
    });
  });
}

function signalNumber(signal: NodeJS.Signals): number | undefined {
  return ({ SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[signal];
}

async function hold(argv: string[], flags: HoldFlags): Promise<number> {
  const settings = ioSettings(resolveHome(flags.home));
  const port = parsePort(flags.port, settings.port);
  const seconds = flags.seconds === undefined ? undefined : Number(flags.seconds);
  if (seconds !== undefined && !(seconds >= 0 && Number.isFinite(seconds)))
    throw new UserError(`--seconds must be a number of seconds, got "${flags.seconds}"`, { field: 'seconds' });
  if (seconds !== undefined && argv.length > 0)
    throw new UserError('give either --seconds or a command after --, not both', { field: 'seconds' });
  const program =
    argv.length > 0 ? argv.join(' ') : `kiln io hold${seconds === undefined ? '' : ` --seconds ${seconds}`}`;
  const io = new IoPriority({ port, listen: settings.listen, program });
  try {
    const held = await io.hold();
    process.stderr.write(
      `kiln io: holding on port ${port} (${io.role === 'owner' ? 'listening' : 'joined the listener'})\n`,
    );
    let code = 0;
    if (argv.length > 0) code = await runHeldCommand(argv);
    else await untilInterrupted(seconds === undefined ? undefined : seconds * 1000);
    await held.release();
    process.stderr.write('kiln io: released\n');
    return code;
  } finally {
    await io.close();
  }
}

function describeStatus(status: IoStatus, where: string): string {
  if (!status.listening)
    return `${where}: no foreground application listening (${status.reason}); background work runs`;
  const lines: string[] = [];
  if (status.held && status.since) {
    const seconds = ((Date.now() - Date.parse(status.since)) / 1000).toFixed(1);
    lines.push(`${where}: held since ${status.since} (${seconds} s)`);
    for (const holder of status.holders)
      lines.push(
        `  by ${holder.program}${holder.pid ? ` (pid ${holder.pid}${holder.host ? ` on ${holder.host}` : ''})` : ''}`,
      );
  } else lines.push(`${where}: not held`);
  const { background, waiting, foreground } = status.clients;
  lines.push(
    `background clients: ${background} connected, ${waiting} waiting; foreground programs joined: ${foreground}`,
  );
  lines.push(`listener: ${status.listener.program} (pid ${status.listener.pid} on ${status.listener.host})`);
  return lines.join('\n');
}

export function registerIoCommands(program: Command): void {
  const io = program.command('io').description('I/O priority: pause background I/O while real-time I/O runs');
  withCommonOptions(io.command('hold'))
    .description('hold I/O priority while CMD runs (or for --seconds N, or until interrupted)')
    .argument('[command...]', 'the program to run while holding, after --')
    .option('--port <port>', 'the I/O priority port (default: network.cfg [IO Priority] Port, 8244)')
    .option('--seconds <n>', 'hold for this many seconds')
    .action(action((argv: string[], flags: HoldFlags) => hold(argv, flags)));
  withCommonOptions(io.command('status'))
    .description('whether a hold is on, since when, by which program, and how many background clients are connected')
    .option('--host <host>', 'the host to ask (default: this one)')
    .option('--port <port>', 'the I/O priority port (default: network.cfg [IO Priority] Port, 8244)')
    .option('--json', 'print JSON')
    .action(
      action(async (flags: { home?: string; host?: string; port?: string; json?: boolean }) => {
        const settings = ioSettings(resolveHome(flags.home));
        const port = parsePort(flags.port, settings.port);
        const host = flags.host ?? localAddress(settings.listen);
        const status = await queryIoStatus(host, port);
        if (flags.json) printJson({ host, port, ...status });
        else console.log(describeStatus(status, `${host}:${port}`));
      }),
    );
}
