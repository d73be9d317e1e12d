import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { join } from 'node:path';
import { makeTempDir, freePort } from '../testing/temp.js';
import { runKiln, assertOneLineError, KILN_MAIN, type CliResult } from '../testing/cli.js';
import { startTestCluster } from '../testing/cluster.js';

test('bad input on an existing cluster: one-line errors, nothing changed', async (t) => {
  const cluster = await startTestCluster(t);
  const meta = readFileSync(join(cluster.data, 'kiln.json'), 'utf8');
  const hba = readFileSync(join(cluster.data, 'pg_hba.conf'), 'utf8');
  const files = clusterFiles(cluster.data);

  assertOneLineError(
    await runKiln(['db', 'init', '--data', cluster.data, '--port', String(await freePort())]),
    /already exists/,
  );
  // Under another open-files limit, so a rewritten kiln.conf would differ.
  assertOneLineError(
    await runKiln(['db', 'start', '--data', cluster.data], { shellPrefix: 'ulimit -n 300' }),
    /already running \(pid \d+/,
  );
  assertOneLineError(
    await runKiln(['db', 'allow', '300.1.2.3/8', '--data', cluster.data]),
    /invalid CIDR "300.1.2.3\/8"/,
  );
  assertOneLineError(await runKiln(['db', 'deny', 'not-a-network', '--data', cluster.data]), /invalid CIDR/);
  assertOneLineError(
    await runKiln(['db', 'user', 'add', 'bob', '--data', cluster.data, '--out', join(cluster.home, 'bob')]),
    /cert mode.*trust/,
  );
  assertOneLineError(await runKiln(['db', 'destroy', '--data', cluster.data]), /confirm/);
  assertOneLineError(await runKiln(['db', 'set-clients', 'many', '--data', cluster.data]), /invalid clients "many"/);

  assert.equal(readFileSync(join(cluster.data, 'kiln.json'), 'utf8'), meta);
  assert.equal(readFileSync(join(cluster.data, 'pg_hba.conf'), 'utf8'), hba);
  assertFilesUnchanged(cluster.data, files);
  assert.equal(existsSync(join(cluster.home, 'bob')), false);
  const status = JSON.parse((await runKiln(['db', 'status', '--json', '--data', cluster.data])).stdout);
  assert.equal(status.running, true, 'the failed commands left the server running');
});

test('destroy at a terminal: a wrong word is refused, DESTROY removes the cluster', {
  skip: !existsSync('/usr/bin/script') && !existsSync('/bin/script') && 'needs script(1) for a terminal',
}, async (t) => {
  const cluster = await startTestCluster(t);
  const files = clusterFiles(cluster.data);

  const wrong = await runKilnAtTerminal(['db', 'destroy', '--data', cluster.data], 'destroy\n');
  assert.match(wrong.stdout, /Type DESTROY to confirm/, 'the prompt was shown');
  assertOneLineError(wrong, /not confirmed; nothing was changed/);
  assertFilesUnchanged(cluster.data, files); // the cluster is still there, unchanged
  const status = JSON.parse((await runKiln(['db', 'status', '--json', '--data', cluster.data])).stdout);
  assert.equal(status.running, true, 'and still running');

  const right = await runKilnAtTerminal(['db', 'destroy', '--data', cluster.data], 'DESTROY\n');
  assert.equal(right.code, 0, `${right.stdout}\n${right.stderr}`);
  assert.match(right.stdout, /Type DESTROY to confirm/);
  assert.equal(right.stderr, '');
  assert.equal(existsSync(cluster.data), false, 'the data directory is gone');
  assert.equal(existsSync(cluster.home), true, 'only the cluster: its parent folder stays');
  assert.ok(hasExited(status.pid), `the server (pid ${status.pid}) is stopped`);
});

test('bad input before a cluster exists: one-line errors, nothing created', async (t) => {
  const home = makeTempDir(t);
  const data = join(home, 'db');

  assertOneLineError(
    await runKiln(['db', 'init', '--auth', 'kerberos', '--data', data]),
    /db\.auth: must be one of trust, cert, got "kerberos" \(from command line\)/,
  );
  assertOneLineError(
    await runKiln(['db', 'init', '--port', '99999', '--data', data]),
    /db\.port: must be an integer from 1 to 65535/,
  );
  assertOneLineError(
    await runKiln(['db', 'init', '--data', data], { env: { KILN_DB_CLIENTS: 'lots' } }),
    /db\.clients: .*got "lots" \(from KILN_DB_CLIENTS\)/,
  );
  assertOneLineError(await runKiln(['db', 'status', '--data', data]), /no Kiln database cluster/);

  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.after(() => blocker.close());
  const port = (blocker.address() as { port: number }).port;
  assertOneLineError(
    await runKiln(['db', 'init', '--port', String(port), '--listen', '127.0.0.1', '--data', data]),
    new RegExp(`port ${port} is already in use`),
  );
  assert.equal(existsSync(data), false, 'nothing was created');
});

test('start on a port taken since init: clear error, the cluster stays as it was', async (t) => {
  const cluster = await startTestCluster(t);
  assert.equal((await runKiln(['db', 'stop', '--data', cluster.data])).code, 0);
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(cluster.port, '127.0.0.1', resolve));
  t.after(() => blocker.close());
  const files = clusterFiles(cluster.data);
  // Under another open-files limit, so a rewritten kiln.conf would differ.
  assertOneLineError(
    await runKiln(['db', 'start', '--data', cluster.data], { shellPrefix: 'ulimit -n 300' }),
    new RegExp(`port ${cluster.port} is already in use`),
  );
  assertFilesUnchanged(cluster.data, files); // the failed start rewrote nothing
  assert.equal(existsSync(join(cluster.data, 'postmaster.pid')), false, 'no server was left behind');
  blocker.close();
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal((await runKiln(['db', 'start', '--data', cluster.data])).code, 0);
});

/** The files Kiln and PostgreSQL read their settings from, by name. */
function clusterFiles(data: string): Record<string, string> {
  const names = ['postgresql.conf', 'kiln.conf', 'kiln.json', 'pg_hba.conf'];
  return Object.fromEntries(names.map((name) => [name, readFileSync(join(data, name), 'utf8')]));
}

/** The process is gone, or a zombie left for a slow reaper (the postmaster's parent is init). */
function hasExited(pid: number): boolean {
  try {
    return /^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  }
}

function assertFilesUnchanged(data: string, before: Record<string, string>): void {
  const after = clusterFiles(data);
  for (const name of Object.keys(before)) assert.equal(after[name], before[name], `${name} is unchanged`);
}

/**
 * Runs `kiln ARGS` with its stdin on a terminal (script(1) makes one), typing INPUT.
 * Its stdout is the terminal (prompt and echo included); stderr stays a pipe of its own.
 */
function runKilnAtTerminal(args: string[], input: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    // script runs the command line with $SHELL -c: every argument single-quoted; kiln's stderr goes to fd 3.
    const quoted = [process.execPath, KILN_MAIN, ...args].map((arg) => `'${arg.replaceAll("'", "'\\''")}'`).join(' ');
    const child = spawn('script', ['-qec', `exec ${quoted} 2>&3`, '/dev/null'], {
      env: { ...process.env, SHELL: '/bin/sh' },
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    // script's own complaints, if any, land with the terminal output (for the failure message).
    child.stderr!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    (child.stdio[3] as Readable).on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin!.end(input);
  });
}
