import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { useFileCluster } from '../../testing/cluster.js';
import { startTestManager, ProtocolWorker } from '../../testing/farm.js';
import { makeTempDir, freePort } from '../../testing/temp.js';
import { runKiln } from '../../testing/cli.js';
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

describe('shared storage settings', () => {
  it('a UNC shared path or a cloud-synced folder stops the manager, saying why', async (t) => {
    await assert.rejects(SharedStorage.open({ ...MANAGER_DEFAULTS, shared_storage_path: '\\\\fileserver\\projects' }), /map a drive letter/);
    const dir = makeTempDir(t);
    const dropbox = join(dir, 'Dropbox');
    mkdirSync(join(dropbox, '.dropbox.cache'), { recursive: true });
    mkdirSync(join(dropbox, 'farm'));
    await assert.rejects(SharedStorage.open({ ...MANAGER_DEFAULTS, shared_storage_path: join(dropbox, 'farm') }), /Dropbox.*does not make one host's writes visible/);

    // The same through the command, as a user meets it: one line, non-zero exit, nothing started.
    const home = join(dir, 'home');
    const run = await runKiln(['manager', '--home', home, '--listen', `127.0.0.1:${await freePort()}`], {
      env: { KILN_MANAGER_SHARED_STORAGE_PATH: join(dropbox, 'farm') },
    });
    assert.notEqual(run.code, 0);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    assert.match(run.stderr, /^kiln: .*Dropbox/);
  });

  it('workers announcing windows and linux receive S:\\... and /mnt/farm/... for the same job', async (t) => {
    const shared = makeTempDir(t);
    const m = await startTestManager(t, fileCluster(), { shared_storage_path: shared, variables: [farm()] });
    const linux = await new ProtocolWorker(m, 'penguin', { platform: 'linux' }).register();
    const windows = await new ProtocolWorker(m, 'window', { platform: 'windows' }).register();
    const submitted = await m.api('POST', '/jobs', {
      name: 'paths', type: 'command', frames: '1-2', chunkSize: 1,
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
