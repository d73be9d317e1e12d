/**
 * A self-discovery member for tests and benchmarks, run inside a network namespace:
 *   node discovery-peer.js '{"home": "...", "services": [{"kind": "manager", "ports": {"http": 7780}}], "periodMs": 500}'
 * Prints one JSON line per event on stdout: ready (uuid, entries), change, duplicate, counters
 * (when they move), stopped. SIGTERM or SIGINT: a clean stop (goodbye), exit 0.
 */
import pino from 'pino';
import { ensureHostIdentity } from '../config/host-identity.js';
import { startSelfDiscovery, type AnnouncedService } from '../discovery/self-discovery.js';

interface PeerOptions {
  home: string;
  services?: AnnouncedService[];
  periodMs?: number;
  hostName?: string;
}

const print = (event: string, data: object = {}): void => {
  process.stdout.write(`${JSON.stringify({ event, at: Date.now(), ...data })}\n`);
};

const options = JSON.parse(process.argv[2] ?? '{}') as PeerOptions;
const network = await ensureHostIdentity(options.home);
// Warnings (a duplicate UUID) go to stderr as pino JSON, as a daemon's would.
const logger = pino({ level: 'warn' }, pino.destination(2));
const member = await startSelfDiscovery({
  network,
  services: options.services ?? [],
  logger,
  ...(options.periodMs ? { periodMs: options.periodMs } : {}),
  ...(options.hostName ? { hostName: options.hostName } : {}),
});
member.registry.on('change', (change) =>
  print('change', { type: change.type, serviceId: change.entry.serviceId, entry: change.entry }),
);
member.registry.on('duplicate', (duplicate) => print('duplicate', duplicate));
let last = '';
const counters = setInterval(() => {
  const now = JSON.stringify(member.counters);
  if (now !== last) print('counters', { counters: member.counters });
  last = now;
}, 50);
const stop = async (): Promise<void> => {
  clearInterval(counters);
  await member.stop();
  print('stopped');
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
// Last: whoever waits for this line may signal at once.
print('ready', { uuid: network.uuid, entries: member.entries });
