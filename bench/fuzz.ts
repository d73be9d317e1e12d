import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestCluster } from '../src/testing/cluster.js';
import { startTestManager } from '../src/testing/farm.js';
import { fuzzManager, seedFarm } from '../src/testing/fuzz-run.js';
import { MANAGER_DEFAULTS } from '../src/manager/config.js';

/**
 * `npm run bench -- fuzz`: the property-based API test at a larger count (KILN_FUZZ_REQUESTS,
 * default 100,000; KILN_FUZZ_SEED repeats a run) against a real manager over a real PostgreSQL
 * cluster. Prints requests run, answers per status and requests per second; fails on any 5xx
 * or error outside Kiln's shape.
 */
export async function benchFuzz(count = Number(process.env.KILN_FUZZ_REQUESTS ?? 100_000)): Promise<void> {
  const cleanups: Array<() => unknown> = [];
  const t = { after: (fn: () => unknown) => cleanups.push(fn) };
  const shared = mkdtempSync(join(tmpdir(), 'kiln-bench-fuzz-'));
  try {
    const cluster = await startTestCluster(t);
    mkdirSync(join(shared, 'farm'));
    const m = await startTestManager(t, cluster, {
      long_poll: 0.01,
      shared_storage_path: join(shared, 'farm'),
      shaman: { ...MANAGER_DEFAULTS.shaman, enabled: true },
    });
    const known = await seedFarm(m);
    const seed = process.env.KILN_FUZZ_SEED === undefined ? Date.now() : Number(process.env.KILN_FUZZ_SEED);
    const started = performance.now();
    const tally = await fuzzManager(m, known, { count, seed });
    const seconds = (performance.now() - started) / 1000;
    const statuses = [...tally.byStatus]
      .sort(([a], [b]) => a - b)
      .map(([status, n]) => `${status}: ${n}`)
      .join(', ');
    console.log(
      `fuzz (seed ${seed}): ${tally.requests.toLocaleString('en-US')} requests in ${seconds.toFixed(1)} s, ${Math.round(tally.requests / seconds)} requests/s`,
    );
    console.log(`  answers: ${statuses}`);
    console.log(
      `  5xx: ${[...tally.byStatus].filter(([status]) => status >= 500).reduce((sum, [, n]) => sum + n, 0)}; jobs stored ${tally.jobsDelta >= 0 ? '+' : ''}${tally.jobsDelta}, workers ${tally.workersDelta >= 0 ? '+' : ''}${tally.workersDelta}`,
    );
  } finally {
    for (const fn of cleanups.reverse()) await fn();
    rmSync(shared, { recursive: true, force: true });
  }
}
