import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaskType } from '../jobs/types.js';
import { DEFAULT_TASK_TYPES, loadWorkerConfig, queueDirectory, readFarmSecret } from './config.js';

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-worker-config-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('worker configuration', () => {
  it('defaults: host name, every task type the job types produce, 2 s may-i-run, 250 ms batches', async (t) => {
    const home = await tempDir(t);
    const config = loadWorkerConfig(home, {}, {});
    assert.equal(config.name, hostname());
    for (const type of Object.values(TaskType)) assert.ok(config.taskTypes.includes(type), type);
    assert.deepEqual(config.taskTypes, [...DEFAULT_TASK_TYPES]);
    assert.equal(config.mayIRunIntervalMs, 2000);
    assert.equal(config.updateIntervalMs, 250);
    assert.equal(config.reconnectMaxDelayMs, 5000);
    assert.equal(
      config.platform,
      process.platform === 'win32' ? 'windows' : process.platform === 'darwin' ? 'darwin' : 'linux',
    );
    assert.equal(queueDirectory(home, config), join(home, 'worker-queue'));
  });

  it('layers worker.yaml, KILN_WORKER_* and flags, and names a bad key', async (t) => {
    const home = await tempDir(t);
    await writeFile(join(home, 'worker.yaml'), 'manager: http://farm:7780\nname: from-file\ntags: [a]\n');
    const env = {
      KILN_WORKER_NAME: 'from-env',
      KILN_WORKER_SECRET: 'env-secret',
      KILN_WORKER_TASK_TYPES: 'render, misc',
    };
    const config = loadWorkerConfig(home, { name: 'from-flag', tags: undefined }, env);
    assert.equal(config.manager, 'http://farm:7780');
    assert.equal(config.name, 'from-flag');
    assert.deepEqual(config.tags, ['a']);
    assert.deepEqual(config.taskTypes, ['render', 'misc']);
    assert.equal(readFarmSecret(config), 'env-secret');

    await writeFile(join(home, 'worker.yaml'), 'mayIRunInterval: 5\n');
    assert.throws(() => loadWorkerConfig(home, {}, {}), /worker.*mayIRunInterval.*not a known key/);
  });

  it('reads the farm secret from a file when none is given directly', async (t) => {
    const home = await tempDir(t);
    const file = join(home, 'farm-secret');
    await writeFile(file, '\n  s3cret  \nignored\n');
    assert.equal(readFarmSecret({ secretFile: file }), 's3cret');
    assert.equal(readFarmSecret({ secret: 'direct', secretFile: file }), 'direct');
    assert.equal(readFarmSecret({}), undefined);
  });
});
