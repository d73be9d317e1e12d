import { benchDashboard } from './dashboard.js';
import { benchDb } from './db.js';
import { benchDiscovery } from './discovery.js';
import { benchDispatch } from './dispatch.js';
import { benchDnsSd } from './dns-sd.js';
import { benchFuzz } from './fuzz.js';
import { benchIo } from './io.js';
import { benchScale } from './scale.js';
import { benchShaman } from './shaman.js';

/** `npm run bench -- NAME...`: runs the named benchmarks (all when none is named). */
const BENCHMARKS: Record<string, () => Promise<void>> = {
  dashboard: () => benchDashboard(),
  db: () => benchDb(),
  // The one discovery figure set: multicast (start to found, goodbye/kill to gone), then
  // DNS-SD, services.cfg and bonjour-service's own browse in the same run.
  discovery: async () => {
    await benchDiscovery();
    await benchDnsSd();
  },
  dispatch: () => benchDispatch(),
  'dns-sd': () => benchDnsSd(),
  fuzz: () => benchFuzz(),
  io: () => benchIo(),
  scale: () => benchScale(),
  shaman: () => benchShaman(),
};

const names = process.argv.slice(2);
const unknown = names.filter((name) => !(name in BENCHMARKS));
if (unknown.length) {
  console.error(
    `kiln bench: unknown benchmark ${unknown.join(', ')}; choose from ${Object.keys(BENCHMARKS).join(', ')}`,
  );
  process.exit(2);
}
// Run on their own, dns-sd would repeat itself after discovery.
const everything = Object.keys(BENCHMARKS).filter((name) => name !== 'dns-sd');
for (const name of names.length ? names : everything) {
  const run = BENCHMARKS[name];
  if (!run) throw new Error(`kiln bench: no benchmark ${name}`);
  await run();
}
