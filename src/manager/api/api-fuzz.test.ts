import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { startTestCluster } from '../../testing/cluster.js';
import { startTestManager, type TestManager } from '../../testing/farm.js';
import { makeTempDir } from '../../testing/temp.js';
import { fuzzManager, seedFarm } from '../../testing/fuzz-run.js';
import { MANAGER_DEFAULTS } from '../config.js';

/** Requests per run: thousands in `npm test`; `npm run bench -- fuzz` runs many more. */
const COUNT = Number(process.env.KILN_FUZZ_REQUESTS ?? 12000);
const SEED = process.env.KILN_FUZZ_SEED === undefined ? undefined : Number(process.env.KILN_FUZZ_SEED);

let m: TestManager;
const cleanups: Array<() => unknown> = [];
const t = { after: (fn: () => unknown) => cleanups.push(fn) };
before(async () => {
  const cluster = await startTestCluster(t);
  const shared = join(makeTempDir(t, 'kiln-fuzz-shared-'), 'farm');
  mkdirSync(shared);
  // Shaman on, so its routes are reached too; the long poll never waits.
  m = await startTestManager(t, cluster, {
    long_poll: 0.01,
    shared_storage_path: shared,
    shaman: { ...MANAGER_DEFAULTS.shaman, enabled: true },
  });
});
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

describe('property: any request to any route of the OpenAPI document', () => {
  it(`gets no 5xx, errors in Kiln's shape, the manager stays up, refused requests store nothing (${COUNT} requests)`, async () => {
    const known = await seedFarm(m);
    const before = {
      jobs: (await m.api('GET', '/jobs?limit=1')).body.total as number,
      workers: (await m.api('GET', '/workers?limit=1')).body.total as number,
    };
    const tally = await fuzzManager(m, known, { count: COUNT, ...(SEED === undefined ? {} : { seed: SEED }) });
    assert.deepEqual(tally.problems, []);
    assert.ok(tally.requests >= COUNT, `${tally.requests} requests`);
    assert.equal([...tally.byStatus.keys()].filter((status) => status >= 500).length, 0);
    // Every 2xx, 4xx of the run is counted: only the accepted submissions and deletions changed what is stored.
    const afterwards = {
      jobs: (await m.api('GET', '/jobs?limit=1')).body.total as number,
      workers: (await m.api('GET', '/workers?limit=1')).body.total as number,
    };
    assert.equal(afterwards.jobs, before.jobs + tally.jobsDelta, 'jobs: only accepted submissions were stored');
    assert.equal(
      afterwards.workers,
      before.workers + tally.workersDelta,
      'workers: only accepted registrations were stored',
    );
    // The run reached the services, not only the validators.
    for (const status of [200, 201, 400, 404])
      assert.ok(
        (tally.byStatus.get(status) ?? 0) > 0,
        `some ${status} answers: ${JSON.stringify([...tally.byStatus])}`,
      );
  });
});
