import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { makeTempDir } from '../testing/temp.js';
import { waitFor } from '../util/time.js';
import { runProcess } from './commands/process.js';
import {
  PROCESS_RECORD_FILE,
  ProcessGroupRecords,
  endLeftoverProcessGroups,
  type ProcessGroupRecord,
} from './process-groups.js';
import { processGroupMembers, processStartTime } from './proc-stat.js';

const silent = pino({ level: 'silent' });

/**
 * A process group like an orphaned task program: a leader that started a grandchild in its
 * group; the leader exits on its own after `leaderMs`. Killed when the test ends.
 */
async function orphanGroup(t: TestContext, leaderMs = 120_000): Promise<number> {
  const leader = spawn(
    process.execPath,
    [
      '-e',
      `require('node:child_process').spawn(process.execPath, ['-e', 'setTimeout(() => {}, 120000)'], { stdio: 'ignore' }).unref(); setTimeout(() => {}, ${leaderMs})`,
    ],
    { detached: true, stdio: 'ignore' },
  );
  leader.unref();
  const pgid = leader.pid!;
  t.after(() => {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // gone
    }
  });
  await waitFor(() => processGroupMembers(pgid).length === 2, { what: 'the grandchild to start' });
  return pgid;
}

const records = (home: string): ProcessGroupRecord[] =>
  JSON.parse(readFileSync(join(home, PROCESS_RECORD_FILE), 'utf8'));

describe('process group records', () => {
  it("records a running program's group and forgets it when it ends", async (t) => {
    const home = makeTempDir(t);
    const groups = new ProcessGroupRecords(home, silent);
    const seen: ProcessGroupRecord[][] = [];
    await runProcess({
      argv: [process.execPath, '-e', 'console.log("hi")'],
      signal: new AbortController().signal,
      killGraceMs: 500,
      onLine: () => seen.push(records(home)),
      processGroups: groups,
    });
    assert.equal(seen[0]?.length, 1);
    assert.equal(seen[0]![0]!.program, process.execPath);
    assert.ok(seen[0]![0]!.startTime, 'with its start time');
    assert.equal(existsSync(join(home, PROCESS_RECORD_FILE)), false, 'no record once it ended');
  });

  it('ends leftover groups (leader and what it started, also when the leader is gone) and clears the record', async (t) => {
    const home = makeTempDir(t);
    const whole = await orphanGroup(t);
    const leaderless = await orphanGroup(t, 200);
    await waitFor(() => processStartTime(leaderless) === undefined, { what: 'the second leader to exit' });
    assert.equal(processGroupMembers(leaderless).length, 1, 'its grandchild lives on');
    // As a killed worker leaves it (the leader's start time was read while it lived).
    writeFileSync(
      join(home, PROCESS_RECORD_FILE),
      JSON.stringify([
        { pgid: whole, startTime: processStartTime(whole), program: 'node' },
        { pgid: leaderless, startTime: '1', program: 'node' },
      ]),
    );
    assert.equal(await endLeftoverProcessGroups(home, silent, { termGraceMs: 2000 }), 2);
    assert.deepEqual(processGroupMembers(whole), []);
    assert.deepEqual(processGroupMembers(leaderless), []);
    assert.equal(existsSync(join(home, PROCESS_RECORD_FILE)), false);
  });

  it('leaves alone a group whose leader pid now names another process', async (t) => {
    const home = makeTempDir(t);
    const unrelated = await orphanGroup(t);
    writeFileSync(
      join(home, PROCESS_RECORD_FILE),
      JSON.stringify([{ pgid: unrelated, startTime: `${Number(processStartTime(unrelated)) - 1}`, program: 'node' }]),
    );
    assert.equal(await endLeftoverProcessGroups(home, silent, { termGraceMs: 500 }), 0);
    assert.equal(processGroupMembers(unrelated).length, 2, 'still running');
  });

  it('killAllNow ends the groups still tracked (a worker leaving without its clean-up)', async (t) => {
    const home = makeTempDir(t);
    const groups = new ProcessGroupRecords(home, silent);
    const pgid = await orphanGroup(t);
    groups.track(pgid, 'node');
    groups.killAllNow();
    await waitFor(() => processGroupMembers(pgid).length === 0, { what: 'the group to be gone' });
    assert.equal(existsSync(join(home, PROCESS_RECORD_FILE)), false);
  });
});
