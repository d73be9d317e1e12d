import { mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as igniter from '../src/db/igniter.js';
import { freePort } from '../src/testing/temp.js';
import { median, timed, ms } from './stats.js';

/** `npm run bench -- db`: how long the igniter takes to init, start and stop a cluster. */
export async function benchDb(rounds = 5): Promise<void> {
  const init: number[] = [];
  const start: number[] = [];
  const stop: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const home = mkdtempSync(join(tmpdir(), 'kiln-bench-db-'));
    chmodSync(home, 0o755);
    const data = join(home, 'db');
    try {
      const port = await freePort();
      init.push(
        (
          await timed(() =>
            igniter.initCluster({ data, port, auth: 'trust', clients: 10, listen: ['127.0.0.1'], noStart: true }),
          )
        )[1],
      );
      start.push((await timed(() => igniter.start(data)))[1]);
      stop.push((await timed(() => igniter.stop(data)))[1]);
    } finally {
      await igniter.destroy(data).catch(() => undefined);
      rmSync(home, { recursive: true, force: true });
    }
  }
  console.log(`db: ${rounds} rounds, medians (min-max)`);
  for (const [name, values] of [
    ['init (initdb + config)', init],
    ['start (until accepting)', start],
    ['stop (fast, until gone)', stop],
  ] as const) {
    console.log(
      `  ${name.padEnd(26)} ${ms(median(values)).padStart(10)}   (${ms(Math.min(...values))} - ${ms(Math.max(...values))})`,
    );
  }
}
