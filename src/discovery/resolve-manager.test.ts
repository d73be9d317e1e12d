import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { useStandInManager } from '../testing/stand-in-manager.js';
import { managerUrlOf, resolveManager } from './resolve-manager.js';
import { fromHeard, toTxt } from './dns-sd-records.js';
import type { ServiceEntry } from './types.js';

/** Generous: a refused port fails at once whatever it is, and a loaded machine may answer a live one late. */
const PROBE_MS = 10_000;

const entry = (port: number, addresses = ['127.0.0.1']): ServiceEntry => ({
  kind: 'manager',
  uuid: 'u',
  host: 'h',
  serviceId: `u/manager/${port}`,
  addresses,
  ports: { http: port },
  version: '0.1.0',
  startedAt: '',
});

describe('resolving the manager', () => {
  let port = 0;
  useStandInManager({ before, after }, (listening) => {
    port = listening;
  });
  let secondPort = 0;
  useStandInManager({ before, after }, (listening) => {
    secondPort = listening;
  });

  it('names every manager a step finds (several managers of one farm), comma-separated; a listed one must answer', async () => {
    const listed = await resolveManager({
      servicesFile: async () => [entry(port), entry(1), entry(secondPort, ['127.0.0.2', '127.0.0.1'])],
      probeTimeoutMs: PROBE_MS,
    });
    assert.equal(listed.url, `http://127.0.0.1:${port},http://127.0.0.1:${secondPort}`);
    const heard = await resolveManager({ multicast: async () => [entry(port), entry(secondPort)] });
    assert.equal(heard.url, `http://127.0.0.1:${port},http://127.0.0.1:${secondPort}`);
    assert.equal(managerUrlOf('a, b:8000,http://c:1'), 'http://a:7780,http://b:8000,http://c:1');
  });

  it('takes the flag, then the configuration, before any discovery', async () => {
    const never = async (): Promise<ServiceEntry[]> => assert.fail('discovery must not run');
    assert.deepEqual(await resolveManager({ flag: 'farm', config: 'other', dnsSd: never }), {
      url: 'http://farm:7780',
      source: 'flag',
    });
    assert.equal((await resolveManager({ config: 'http://x:1', dnsSd: never })).source, 'config');
  });

  it('services.cfg before multicast before DNS-SD; a listed manager must answer', async () => {
    const order: string[] = [];
    const step = (name: string, entries: ServiceEntry[]) => async () => {
      order.push(name);
      return entries;
    };
    const found = await resolveManager({
      servicesFile: step('services.cfg', [entry(1)]),
      multicast: step('multicast', []),
      dnsSd: step('dns-sd', [entry(port)]),
      probeTimeoutMs: PROBE_MS,
    });
    assert.deepEqual(order, ['services.cfg', 'multicast', 'dns-sd']);
    assert.equal(found.url, `http://127.0.0.1:${port}`);
    assert.equal(found.source, 'dns-sd');
    const listed = await resolveManager({ servicesFile: step('services.cfg', [entry(1), entry(port)]) });
    assert.equal(listed.source, 'services.cfg');
    assert.equal(listed.url, `http://127.0.0.1:${port}`);
  });

  it('says in one line what it tried when nothing is found; a failing step does not stop the chain', async () => {
    await assert.rejects(
      resolveManager({
        servicesFile: async () => [],
        multicast: async () => {
          throw new Error('no route');
        },
        dnsSd: async () => [],
      }),
      /^UserError: no manager found: .*none in services\.cfg; multicast failed \(no route\); none in dns-sd/,
    );
  });

  it('reads manager addresses the way people write them', () => {
    assert.equal(managerUrlOf('farm'), 'http://farm:7780');
    assert.equal(managerUrlOf('farm:8000'), 'http://farm:8000');
    assert.equal(managerUrlOf('[::1]'), 'http://[::1]:7780');
    assert.equal(managerUrlOf('[::1]:8000'), 'http://[::1]:8000');
    assert.equal(managerUrlOf('fd00::1'), 'http://[fd00::1]:7780');
    assert.equal(managerUrlOf('https://farm.example'), 'https://farm.example');
  });

  it('a TXT record survives the trip through DNS-SD; foreign TXT is ignored', () => {
    const database = { ...entry(7533), kind: 'database' as const, ports: { postgres: 7533 }, meta: { auth: 'cert' } };
    const heard = fromHeard({
      kind: 'database',
      port: 7533,
      target: 'h-kiln.local',
      addresses: ['10.0.0.1'],
      txt: toTxt(database),
    });
    assert.deepEqual(heard?.meta, { auth: 'cert' });
    assert.deepEqual(heard?.ports, { postgres: 7533 });
    assert.equal(heard?.uuid, 'u');
    assert.equal(
      fromHeard({ kind: 'manager', port: 1, target: 'x.local', addresses: [], txt: { foo: 'bar' } }),
      undefined,
    );
  });
});
