import { describe, it, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { useFileCluster } from '../../testing/cluster.js';
import { startTestManager, ProtocolWorker } from '../../testing/farm.js';
import { makeTempDir, freePort } from '../../testing/temp.js';
import { assertOneLineError, type CliResult } from '../../testing/cli.js';
import { startKiln, type KilnProcess } from '../../testing/processes.js';
import * as igniter from '../../db/igniter.js';
import { SECOND } from '../../util/time.js';
import { SharedStorage } from './shared-storage.js';
import { MANAGER_DEFAULTS } from '../config.js';

/** One PostgreSQL for the file; each test gets its own database and manager. */
const fileCluster = useFileCluster({ before, after });

const farm = (extra: Record<string, string> = {}) => ({
  name: 'farm',
  values: [
    { platform: 'linux' as const, audience: 'all' as const, value: '/mnt/farm' },
    { platform: 'darwin' as const, audience: 'all' as const, value: '/Volumes/farm' },
    { platform: 'windows' as const, audience: 'all' as const, value: 'S:\\' },
  ],
  ...extra,
});

/**
 * One `kiln manager` run in a home of its own that must exit by itself within `timeoutMs`
 * (killed, and the test failed, otherwise). It listens on a free loopback port, and its
 * embedded database would too, so a regression can never take 7780 or 7533. When the test
 * ends, pass or fail: the process is killed if still running, any database it made is
 * destroyed (server stopped), then the home is removed.
 */
function managerRun(t: TestContext): {
  home: string;
  run: (env: NodeJS.ProcessEnv, timeoutMs?: number) => Promise<CliResult>;
} {
  let proc: KilnProcess | undefined;
  const home = makeTempDir(t, 'kiln-home-', async () => {
    await proc?.kill('SIGKILL');
    if (existsSync(join(home, 'db'))) await igniter.destroy(join(home, 'db'));
  });
  const run = async (env: NodeJS.ProcessEnv, timeoutMs = 20 * SECOND): Promise<CliResult> => {
    const [port, dbPort] = [await freePort(), await freePort()];
    const started = startKiln(['manager', '--home', home, '--listen', `127.0.0.1:${port}`], {
      KILN_DB_PORT: String(dbPort),
      KILN_DB_LISTEN: '127.0.0.1',
      ...env,
    });
    proc = started;
    let stdout = '';
    let stderr = '';
    started.child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    started.child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const closed = new Promise<number | null>((resolve) => started.child.once('close', (code) => resolve(code)));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    const outcome = await Promise.race([closed, timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      await started.kill('SIGKILL');
      assert.fail(`kiln manager did not exit within ${timeoutMs} ms (killed); output: ${started.output()}`);
    }
    return { code: outcome, stdout, stderr };
  };
  return { home, run };
}

describe('shared storage settings', () => {
  it('a UNC shared path or a cloud-synced folder stops the manager, saying why', async (t) => {
    await assert.rejects(
      SharedStorage.open({ ...MANAGER_DEFAULTS, shared_storage_path: '\\\\fileserver\\projects' }),
      /map a drive letter/,
    );
    const dir = makeTempDir(t);
    const dropbox = join(dir, 'Dropbox');
    mkdirSync(join(dropbox, '.dropbox.cache'), { recursive: true });
    mkdirSync(join(dropbox, 'farm'));
    await assert.rejects(
      SharedStorage.open({ ...MANAGER_DEFAULTS, shared_storage_path: join(dropbox, 'farm') }),
      /Dropbox.*does not make one host's writes visible/,
    );

    // The same through the command, as a user meets it: one line, non-zero exit, nothing started.
    const cloud = managerRun(t);
    const run = await cloud.run({ KILN_MANAGER_SHARED_STORAGE_PATH: join(dropbox, 'farm') });
    assert.notEqual(run.code, 0);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    assert.match(run.stderr, /^kiln: .*Dropbox/);
    assertOneLineError(run, /Dropbox/);
    assert.doesNotMatch(run.stdout, /Kiln manager on/, 'the manager did not start');
    assert.equal(existsSync(join(cloud.home, 'db')), false, 'no database was created');

    // A UNC shared path (here from the environment, as KILN_MANAGER_SHARED_STORAGE_PATH maps to
    // manager.shared_storage_path): refused before the database, saying to map a drive letter.
    const unc = managerRun(t);
    const uncRun = await unc.run({ KILN_MANAGER_SHARED_STORAGE_PATH: '\\\\server\\share' });
    assertOneLineError(uncRun, /\\\\server\\share is a UNC path.*map a drive letter/);
    assert.notEqual(uncRun.code, 0);
    assert.doesNotMatch(uncRun.stdout, /Kiln manager on/, 'the manager did not start');
    assert.equal(existsSync(join(unc.home, 'db')), false, 'no database was created');
  });

  it('workers announcing windows and linux receive S:\\... and /mnt/farm/... for the same job', async (t) => {
    const shared = makeTempDir(t);
    const m = await startTestManager(t, fileCluster(), { shared_storage_path: shared, variables: [farm()] });
    const linux = await new ProtocolWorker(m, 'penguin', { platform: 'linux' }).register();
    const windows = await new ProtocolWorker(m, 'window', { platform: 'windows' }).register();
    const submitted = await m.api('POST', '/jobs', {
      name: 'paths',
      type: 'command',
      frames: '1-2',
      chunkSize: 1,
      settings: { argv: ['render', '{farm}/proj/shot.blend', '{frame}'], cwd: 'shots' },
      storage: { mode: 'direct', input: '{farm}/proj/shot.blend', effectivePath: '{farm}/proj' },
    });
    assert.equal(submitted.status, 201, JSON.stringify(submitted.body));
    const onLinux = (await linux.call('POST', '/worker/task?waitMs=500')).body;
    const onWindows = (await windows.call('POST', '/worker/task?waitMs=500')).body;
    const exec = (task: any) => task.commands.find((c: any) => c.name === 'exec').parameters;
    assert.equal(exec(onLinux).argv[1], '/mnt/farm/proj/shot.blend');
    assert.equal(exec(onLinux).cwd, '/mnt/farm/proj/shots');
    assert.equal(exec(onWindows).argv[1], 'S:\\proj\\shot.blend');
    assert.equal(exec(onWindows).cwd, 'S:\\proj\\shots');
    const stored = (await m.api('GET', `/tasks/${onLinux.id}`)).body.commands[0].parameters;
    assert.equal(stored.argv[1], '{farm}/proj/shot.blend', 'stored with the variable');
  });
});
