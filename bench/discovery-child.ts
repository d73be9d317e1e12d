/**
 * Runs inside a network namespace (bench/discovery.ts makes it): a listener, then many services
 * started and stopped beside it; prints one JSON line of timings.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { ensureHostIdentity } from '../src/config/host-identity.js';
import { startSelfDiscovery } from '../src/discovery/self-discovery.js';
import type { RegistryChange } from '../src/discovery/registry.js';

const runs = Number(process.argv[2] ?? 50);
const periodMs = Number(process.argv[3] ?? 200);
const logger = pino({ level: 'silent' });
const home = mkdtempSync(join(tmpdir(), 'kiln-bench-disco-'));
// The home only holds this run's network.cfg: gone with the run, however it ends.
process.on('exit', () => rmSync(home, { recursive: true, force: true }));
const network = await ensureHostIdentity(home);
const listener = await startSelfDiscovery({ network, logger });
const next = (type: RegistryChange['type'], port: number): Promise<number> =>
  new Promise((resolve) => {
    const onChange = (change: RegistryChange): void => {
      if (change.type !== type || change.entry.ports.http !== port) return;
      listener.registry.off('change', onChange);
      resolve(performance.now());
    };
    listener.registry.on('change', onChange);
  });
const found: number[] = [];
const goodbye: number[] = [];
const expiry: number[] = [];
for (let run = 0; run < runs; run++) {
  const port = 20000 + run;
  const appeared = next('appeared', port);
  const started = performance.now();
  const service = await startSelfDiscovery({
    network: { ...network, uuid: randomUUID() }, // another host: no duplicate-UUID alarm
    services: [{ kind: 'manager', ports: { http: port } }],
    logger,
    periodMs,
    hostName: `bench-${run}`,
  });
  found.push((await appeared) - started);
  const gone = next('disappeared', port);
  const stopping = performance.now();
  if (run % 5 === 4) {
    // A kill: the sockets go without a goodbye (stop() would send one), so only expiry removes it.
    (service as unknown as { entries: unknown[] }).entries.length = 0;
    await service.stop();
    expiry.push((await gone) - stopping);
  } else {
    await service.stop();
    goodbye.push((await gone) - stopping);
  }
}
await listener.stop();
process.stdout.write(`${JSON.stringify({ found, goodbye, expiry, periodMs })}\n`);
process.exit(0);
