import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { ApiClient } from '../src/client/api-client.js';
import { askEarly, missingFiles, uploadFiles } from '../src/cli/storage/shaman-upload.js';
import { HashCache, hashFiles, listTree } from '../src/storage/index.js';
import { withBenchCluster } from './cluster.js';
import { startManagerProcess } from './kiln.js';
import { median, timed } from './stats.js';
import { loadAverage } from './dispatch.js';

const MiB = 1024 * 1024;

/** `sync`: nothing written earlier is left for the next measurement to pay for. */
const syncAll = (): void => void spawnSync('sync');

/**
 * A submit over the real API (the CLI's own code: list, hash, ask what is missing, upload),
 * the manager in a child process with Shaman on and durable writes (its default), beside `cp -r`
 * and `cp -r` + `sync` of the same tree on the same disk. Then an unchanged re-submit (hash
 * cache; the store asked about what the tree held last time while it is listed again). `rounds` fresh stores, medians. Everything stays in
 * `work` for the caller to remove at the very end: see benchShaman on why nothing is deleted between
 * measurements.
 */
export async function benchShamanSubmit(tree: string, work: string, rounds = 3): Promise<void> {
  mkdirSync(work, { recursive: true });
  chmodSync(work, 0o755);
  const first: number[] = [];
  const again: number[] = [];
  const againCpu: number[] = [];
  const againManagerCpu: number[] = [];
  const copy: number[] = [];
  const copySync: number[] = [];
  let uploadedAgain = 0;
  let uploaded = 0;
  await withBenchCluster(async (cluster) => {
    for (let round = 0; round < rounds; round++) {
      const shared = join(work, `shared-${round}`);
      mkdirSync(shared);
      const manager = await startManagerProcess(cluster, {
        overrides: { shared_storage_path: shared, shaman: { enabled: true, gc: { period: 3600, max_age: 3600 } } },
      });
      try {
        const storage = new ApiClient({ baseUrl: manager.url }).storage;
        const cacheFile = join(work, `hash-cache-${round}.json`);
        const submit = async (): Promise<number> => {
          const cache = await HashCache.load(cacheFile);
          const early = askEarly(storage, cache, realpathSync(tree));
          const listing = await listTree(tree);
          const hashed = await hashFiles(listing.files, { baseDir: listing.root, cache });
          await cache.save();
          const missing = await missingFiles(storage, hashed.files, await early);
          return uploadFiles(storage, listing.root, missing);
        };
        syncAll();
        const [bytes, ms] = await timed(submit);
        first.push(ms);
        uploaded = bytes;
        for (let i = 0; i < 3; i++) {
          const cpu = process.cpuUsage();
          const managerCpu = (await manager.stats()).cpu;
          const [bytesAgain, msAgain] = await timed(submit);
          const used = process.cpuUsage(cpu);
          const managerUsed = (await manager.stats()).cpu;
          again.push(msAgain);
          againCpu.push((used.user + used.system) / 1000);
          againManagerCpu.push((managerUsed.user - managerCpu.user + managerUsed.system - managerCpu.system) / 1000);
          uploadedAgain += bytesAgain;
        }
      } finally {
        await manager.close();
      }
      syncAll();
      copy.push((await timed(async () => void spawnSync('cp', ['-r', tree, join(work, `copy-${round}`)])))[1]);
      syncAll();
      copySync.push(
        (
          await timed(async () => {
            spawnSync('cp', ['-r', tree, join(work, `copy-sync-${round}`)]);
            syncAll();
          })
        )[1],
      );
    }
  });
  const kiln = median(first);
  console.log(
    `shaman first submit of the 10,000-file tree over the API (list, hash, ask, upload ${(uploaded / MiB).toFixed(0)} MiB, durable): ${kiln.toFixed(0)} ms (runs ${first.map((v) => v.toFixed(0)).join(', ')}; load ${loadAverage()})`,
  );
  console.log(
    `  same tree, same disk: cp -r ${median(copy).toFixed(0)} ms; cp -r + sync ${median(copySync).toFixed(0)} ms; ratio kiln/(cp -r + sync) ${(kiln / median(copySync)).toFixed(2)}x, kiln/cp -r ${(kiln / median(copy)).toFixed(2)}x`,
  );
  console.log(
    `shaman unchanged re-submit over the API: ${median(again).toFixed(0)} ms wall (runs ${again.map((v) => v.toFixed(0)).join(', ')}), ${median(againCpu).toFixed(0)} ms client CPU, ${median(againManagerCpu).toFixed(0)} ms manager CPU (list, cached hashes, the store asked early about what the tree held last time), ${uploadedAgain} bytes uploaded; load ${loadAverage()}`,
  );
}
