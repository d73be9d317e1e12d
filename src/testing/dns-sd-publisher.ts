/**
 * A minimal stand-in manager for namespaced tests and benchmarks: answers `GET /api/v1/version`
 * like a manager and registers `_kiln-manager._tcp` with Kiln's DNS-SD module, without a
 * database. Run inside a namespace: `node dns-sd-publisher.js PORT UUID`; prints `ready` once
 * published, withdraws on SIGTERM/SIGINT.
 */
import { createServer } from 'node:http';
import { hostname } from 'node:os';
import { publishService } from '../discovery/dns-sd.js';
import { KILN_VERSION } from '../util/version.js';

const port = Number(process.argv[2] ?? 7780);
const uuid = process.argv[3] ?? '00000000-0000-5000-8000-000000000000';
const server = createServer((_request, response) => {
  response.setHeader('content-type', 'application/json');
  response.end(
    JSON.stringify({ name: 'kiln', version: KILN_VERSION, apiVersion: 1, hostUuid: uuid, hostName: hostname() }),
  );
});
await new Promise<void>((resolvePromise) => server.listen(port, '0.0.0.0', resolvePromise));
const published = await publishService({
  kind: 'manager',
  uuid,
  host: hostname(),
  serviceId: `${uuid}/manager/${port}`,
  addresses: [],
  ports: { http: port },
  version: KILN_VERSION,
  startedAt: new Date().toISOString(),
});
process.stdout.write('ready\n');
const stop = (): void => {
  void published.stop().then(() => server.close(() => process.exit(0)));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
