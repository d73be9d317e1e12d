// Loaded (--require) by scripts/run-tests.mjs into Node's test runner and, through it, into every
// test file's process, so that an interrupted test run cleans up what its tests made. CommonJS:
// Node 20's runner process loads --require preloads but not --import ones.
//
// Node 20's runner, sent SIGINT or SIGTERM, exits at once and leaves the files' processes running;
// a test file's process sent one dies without its after-hooks, which stop PostgreSQL servers and
// `kiln` processes and remove network namespaces and temp dirs. With this module:
// - the runner, sent SIGUSR2 (run-tests.mjs does so on its own SIGINT/SIGTERM), starts no more
//   test files and sends SIGTERM to the files' processes running; it ends as usual once they have;
// - the runner whose output's reader goes away (EPIPE: `| head`) does the same;
// - a test file's process, sent SIGTERM or SIGINT, cancels its running tests the way a test's
//   time limit does (so their after-hooks run), starts no more tests, and exits once its hooks are
//   done; a second signal exits at once.
//
// node:test has no public way to cancel a running test. Every test (and, in the runner, every
// file) runs its function through AsyncResource#runInAsyncScope, which is where this module sees
// it, and a test's `abortController` is what its time limit aborts (lib/internal/test_runner/test.js).
// Written against Node 20.
'use strict';
const { AsyncResource } = require('node:async_hooks');
const { readFileSync, readdirSync } = require('node:fs');

/** A test or a test file (node:test's internal Test), not a suite, a hook or the root. */
function isPlainTest(value) {
  return (
    typeof value === 'object' &&
    value !== null &&
    value.abortController instanceof AbortController &&
    typeof value.fail === 'function' &&
    value.parent != null &&
    value.hookType === undefined &&
    value.reportedType !== 'suite' &&
    'endTime' in value
  );
}

/** The reason a test failed, without a stack trace that would point into this module. */
function stackless(message) {
  const error = new Error(message);
  error.stack = message;
  return error;
}

const running = new Set();
let interruption;

/** Fails `test` as interrupted and aborts it: Test#run then goes on to its after-hooks. */
function cancel(test) {
  if (test.endTime !== null) return;
  test.fail(interruption);
  test.cancelled = true;
  test.abortController.abort(interruption);
}

const exitWatched = new WeakSet();
/**
 * Once the file's last test is done, node:test runs the root (its after-hooks); after that the
 * process exits, as --test-force-exit does: cancelled tests' own code may still wait on timers.
 */
function exitAfterRoot(root) {
  if (exitWatched.has(root)) return;
  exitWatched.add(root);
  const run = root.run;
  root.run = async function runThenExit() {
    try {
      await run.call(this);
    } finally {
      this.reporter.once('close', () => process.exit());
      this.harness.teardown();
    }
  };
}

/** Sees every test start; once interrupted, a test that starts is cancelled before its function runs. */
function watchTests() {
  const runInScope = AsyncResource.prototype.runInAsyncScope;
  AsyncResource.prototype.runInAsyncScope = function runInScopeUnlessInterrupted(fn, thisArg, ...args) {
    if (isPlainTest(this)) {
      if (interruption) {
        exitAfterRoot(this.root);
        cancel(this);
        return undefined;
      }
      for (const test of running) if (test.endTime !== null) running.delete(test);
      running.add(this);
    }
    return runInScope.call(this, fn, thisArg, ...args);
  };
}

/** In a test file's process: cancel what runs, start nothing more, exit when the hooks are done. */
function interruptFile(signal) {
  if (interruption) process.exit(signal === 'SIGINT' ? 130 : 143);
  interruption = stackless(`interrupted (${signal}): cancelled, its after-hooks run`);
  for (const test of running) {
    exitAfterRoot(test.root);
    cancel(test);
  }
}

/** Pids of the live children of `parent`, from /proc (a name may hold spaces and parentheses). */
function childPidsOf(parent) {
  const found = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(ppid) === parent && state !== 'Z') found.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

/** In the runner: start no more files, ask the running files' processes to stop (once: a second SIGTERM kills). */
function interruptRunner() {
  if (interruption) return;
  interruption = stackless('interrupted before this file started');
  for (const pid of childPidsOf(process.pid)) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // Gone meanwhile.
    }
  }
}

if (process.env.NODE_TEST_CONTEXT !== undefined) {
  watchTests();
  process.on('SIGTERM', interruptFile);
  process.on('SIGINT', interruptFile);
} else if (process.execArgv.includes('--test')) {
  watchTests();
  process.on('SIGUSR2', interruptRunner);
  // The reader of the output went away (`| head`): the runner would die of EPIPE and leave the
  // files' processes without their after-hooks; it stops as on an interrupt instead.
  const onOutputError = (error) => {
    if (error.code !== 'EPIPE') throw error;
    interruptRunner();
  };
  process.stdout.on('error', onOutputError);
  process.stderr.on('error', onOutputError);
}
