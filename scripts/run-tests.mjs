// Runs every compiled *.test.js under dist/ with Node's test runner.
// (Node 20's --test does not expand globs itself.)
//
// Interrupted (SIGINT, SIGTERM), it lets the tests clean up before it exits: the runner gets
// SIGUSR2, starts no more files and sends SIGTERM to the files' processes, whose running tests
// are cancelled so that their after-hooks run (they stop PostgreSQL servers and `kiln` processes,
// remove network namespaces and temp dirs); see interruptible-tests.cjs beside this. A second
// signal kills them at once (SIGKILL to their process group).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

function find(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) find(path, out);
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

const filter = process.argv.slice(2);
let files = find('dist/src').sort();
if (filter.length) files = files.filter((f) => filter.some((p) => f.includes(p)));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
/** Run from inside a test (the runner's own test does), this is a run of its own, not a file's child. */
function withoutTestContext(env) {
  const { NODE_TEST_CONTEXT: _inherited, ...rest } = env;
  return rest;
}

const interruptible = fileURLToPath(new URL('interruptible-tests.cjs', import.meta.url));
const runner = spawn(
  process.execPath,
  ['--require', interruptible, '--test', '--test-concurrency=2', '--test-timeout=300000', ...files],
  {
    stdio: ['ignore', 'inherit', 'inherit'],
    // A group of its own: Ctrl-C in a terminal reaches this script only, which then stops the tests in order.
    detached: true,
    // Belt and braces: whatever a test starts without its own environment stays off the host's
    // network (multicast and mDNS); namespaced tests turn discovery on for what they start there.
    env: {
      ...withoutTestContext(process.env),
      KILN_SELF_DISCOVERY: 'off',
      KILN_DNS_SD: 'off',
      KILN_MANAGER_DISCOVERY_DNS_SD: 'false',
      KILN_MANAGER_DISCOVERY_ENABLED: 'false',
    },
  },
);

let interrupted;
let interruptedAt = 0;
/** The same signal this soon again is one Ctrl-C seen twice (the terminal's, and npm passing it on), not a second. */
const REPEAT_MS = Number(process.env.RUN_TESTS_REPEAT_MS ?? 1000);
function onSignal(signal) {
  if (interrupted === undefined) {
    interrupted = signal;
    interruptedAt = Date.now();
    console.error(`run-tests: ${signal}: stopping the tests after their clean-up (a second signal kills them)`);
    runner.kill('SIGUSR2');
    return;
  }
  if (signal === interrupted && Date.now() - interruptedAt < REPEAT_MS) {
    console.error(`run-tests: ${signal} again at once: taken as the same one`);
    return;
  }
  console.error(`run-tests: ${signal} again: killing the tests`);
  try {
    process.kill(-runner.pid, 'SIGKILL');
  } catch {
    // Gone already.
  }
  process.exit(128 + constants.signals[signal]);
}
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

runner.on('exit', (code, signal) => {
  if (interrupted !== undefined) process.exit(128 + constants.signals[interrupted]);
  process.exit(code ?? 128 + (constants.signals[signal] ?? 0));
});
