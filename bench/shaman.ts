import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ShamanStore, createCheckout, hashFiles, listTree } from '../src/storage/index.js';
import { childrenCpuMs, median, ownCpuMs, timed } from './stats.js';
import { benchShamanSubmit } from './shaman-submit.js';
import { loadAverage } from './dispatch.js';

const MiB = 1024 * 1024;

async function nodeSha256(paths: string[]): Promise<void> {
  for (const path of paths) {
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(path, { highWaterMark: MiB })) hash.update(chunk as Buffer);
    hash.digest();
  }
}

/**
 * `npm run bench -- shaman`: hashing speed beside Node's own SHA-256 (one core) and
 * coreutils sha256sum on the same files; the first submit of a 10,000-file tree over the API
 * beside `cp -r` and `cp -r` + `sync`, an unchanged re-submit (list, cached hashes, ask what is
 * missing); and checking out 10,000 files beside `cp -r`.
 */
export async function benchShaman(rounds = 3): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-bench-shaman-'));
  try {
    // 1. Hashing: 32 files of 8 MiB (256 MiB), read from the page cache in every run.
    const big = join(dir, 'big');
    mkdirSync(big);
    const paths = Array.from({ length: 32 }, (_, i) => join(big, `plate-${i}.exr`));
    for (const path of paths) writeFileSync(path, randomBytes(8 * MiB));
    const total = 32 * 8;
    const kiln: number[] = [];
    const node: number[] = [];
    const coreutils: number[] = [];
    for (let round = 0; round < rounds; round++) {
      kiln.push(total / ((await timed(() => hashFiles(paths)))[1] / 1000));
      node.push(total / ((await timed(() => nodeSha256(paths)))[1] / 1000));
      coreutils.push(total / ((await timed(async () => void spawnSync('sha256sum', paths)))[1] / 1000));
    }
    const cores = availableParallelism();
    console.log(`shaman hashing: ${total} MiB in 32 files, ${cores} cores, median of ${rounds}`);
    console.log(
      `  kiln hashFiles (all cores)   ${median(kiln).toFixed(0).padStart(6)} MiB/s   (${(median(kiln) / cores).toFixed(0)} MiB/s per core)`,
    );
    console.log(`  node sha256 (one core)       ${median(node).toFixed(0).padStart(6)} MiB/s`);
    console.log(`  sha256sum                    ${median(coreutils).toFixed(0).padStart(6)} MiB/s`);
    console.log(
      `  ratio kiln/node ${(median(kiln) / median(node)).toFixed(2)}x, per core ${(median(kiln) / cores / median(node)).toFixed(2)}x; kiln/sha256sum ${(median(kiln) / median(coreutils)).toFixed(2)}x`,
    );

    // 2. A 10,000-file tree: first submit, then an unchanged re-submit (client work only).
    const tree = join(dir, 'tree');
    for (let i = 0; i < 10_000; i++) {
      const sub = join(tree, `shot${i % 50}`);
      if (i < 50) mkdirSync(sub, { recursive: true });
      writeFileSync(join(sub, `f${i}.dat`), randomBytes(1024 + (i % 7) * 4096));
    }
    await benchShamanSubmit(tree, join(dir, 'submit'), rounds);

    // The store the checkouts link into, filled directly (not measured).
    const store = new ShamanStore(join(dir, 'shared', 'shaman'), { fsync: false });
    const listing = await listTree(tree);
    const { files } = await hashFiles(listing.files, { baseDir: listing.root });
    await store.receiveBatch(files.map((file) => ({ ...file, bytes: readFileSync(join(listing.root, file.path)) })));

    // 3. Checkout of the 10,000 files beside cp -r of the same tree, taking turns at going first.
    const checkouts = join(dir, 'shared', 'jobs');
    const checkout: number[] = [];
    const copy: number[] = [];
    const checkoutCpu: number[] = [];
    const copyCpu: number[] = [];
    const measureCheckout = async (round: number) => {
      const cpu = ownCpuMs();
      checkout.push((await timed(() => createCheckout(store, checkouts, `job-${round}`, files)))[1]);
      checkoutCpu.push(ownCpuMs() - cpu);
    };
    const measureCopy = async (round: number) => {
      const cpu = childrenCpuMs();
      copy.push((await timed(async () => void spawnSync('cp', ['-r', tree, join(dir, `copy-${round}`)])))[1]);
      copyCpu.push(childrenCpuMs() - cpu);
    };
    for (let round = 0; round < rounds; round++) {
      // Each starts with nothing left to write back from the one before (cp -r leaves 127 MiB).
      for (const measure of round % 2 === 0 ? [measureCheckout, measureCopy] : [measureCopy, measureCheckout]) {
        spawnSync('sync');
        await measure(round);
      }
    }
    const ratios = checkout.map((ms, i) => ms / (copy[i] as number));
    console.log(
      `shaman checkout of 10,000 files: ${median(checkout).toFixed(0)} ms; cp -r of the tree ${median(copy).toFixed(0)} ms; ratio ${(median(checkout) / median(copy)).toFixed(2)}x (per round ${ratios.map((r) => r.toFixed(2)).join(', ')}; load ${loadAverage()})`,
    );
    console.log(
      `  CPU (user + system): checkout ${median(checkoutCpu).toFixed(0)} ms, cp -r ${median(copyCpu).toFixed(0)} ms; ratio ${(median(checkoutCpu) / median(copyCpu)).toFixed(2)}x`,
    );
  } finally {
    // Removed only now: for a minute after tens of thousands of files are deleted, ext4 without a
    // journal (this machine's disk) checks each freed inode again on every file it creates, which
    // would make whatever is measured next pay for the clean-up of what was measured before.
    rmSync(dir, { recursive: true, force: true });
  }
}
