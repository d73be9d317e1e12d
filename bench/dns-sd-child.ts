/**
 * The measuring side of `npm run bench -- dns-sd`, run inside namespace B: many manager lookups
 * by DNS-SD (Kiln's resolver), by services.cfg (Kiln's resolver, with its reachability probe),
 * and bonjour-service's own browse, interleaved so drift hits all three alike. Prints JSON.
 */
import { Bonjour } from 'bonjour-service';
import { browseDnsSd } from '../src/discovery/dns-sd.js';
import { resolveManager } from '../src/discovery/resolve-manager.js';
import { readServicesEntries } from '../src/discovery/services-store.js';

const rounds = Number(process.argv[2] ?? 30);
const servicesFile = process.argv[3] ?? '';
const expected = process.argv[4] ?? '';

async function time(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function bonjourBrowse(): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const bonjour = new Bonjour({}, reject);
    bonjour.findOne({ type: 'kiln-manager', protocol: 'tcp' }, 5000, (service: unknown) => {
      bonjour.destroy(() => (service ? resolvePromise() : reject(new Error('bonjour-service found nothing'))));
    });
  });
}

async function byDnsSd(): Promise<void> {
  const found = await resolveManager({
    dnsSd: () => browseDnsSd({ kind: 'manager', timeoutMs: 5000, untilFirst: true }),
  });
  if (found.url !== expected) throw new Error(`DNS-SD found ${found.url}, expected ${expected}`);
}

async function byServicesFile(): Promise<void> {
  const found = await resolveManager({ servicesFile: () => readServicesEntries(servicesFile) });
  if (found.url !== expected) throw new Error(`services.cfg gave ${found.url}, expected ${expected}`);
}

// The first DNS-SD lookup waits out the publisher's name probe (about 0.75 s) and the first
// HTTP probe pays for connecting; reported apart, not mixed into the percentiles.
const cold = {
  dnsSd: await time(byDnsSd),
  servicesFile: await time(byServicesFile),
  bonjour: await time(bonjourBrowse),
};
const times: Record<string, number[]> = { dnsSd: [], servicesFile: [], bonjour: [] };
for (let round = 0; round < rounds; round++) {
  times.dnsSd?.push(await time(byDnsSd));
  times.servicesFile?.push(await time(byServicesFile));
  times.bonjour?.push(await time(bonjourBrowse));
}
process.stdout.write(`${JSON.stringify({ cold, times })}\n`);
