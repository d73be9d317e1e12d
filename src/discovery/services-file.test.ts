import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  formatServicesFile,
  mergeIntoServicesDocument,
  parseServicesFile,
  servicesFileEntries,
  ServicesFileError,
} from './services-file.js';
import type { ServiceEntry } from './types.js';

const HAND_WRITTEN = `# our farm
[the farm manager]
# on the rack, second shelf
kind = manager
host = farm1
addresses = 192.168.0.14
ports = http:7780
source = hand
`;

const found = (overrides: Partial<ServiceEntry> = {}): ServiceEntry => ({
  kind: 'manager',
  uuid: '11111111-2222-5333-8444-555555555555',
  host: 'farm1',
  serviceId: 'x',
  addresses: ['192.168.0.14'],
  ports: { http: 7780 },
  version: '0.2.0',
  startedAt: '',
  ...overrides,
});

describe('services.cfg', () => {
  it('reads hand-written sections as entries (source services.cfg)', () => {
    const [entry] = servicesFileEntries(parseServicesFile(HAND_WRITTEN));
    assert.equal(entry?.kind, 'manager');
    assert.deepEqual(entry?.addresses, ['192.168.0.14']);
    assert.deepEqual(entry?.ports, { http: 7780 });
    assert.equal(entry?.source, 'services.cfg');
  });

  it('takes a section name with brackets in it (an IPv6 host) and refuses an empty one', () => {
    const text = '[manager [fd00::14]:7780]\nkind = manager\naddresses = fd00::14\nports = http:7780\n';
    const [entry] = servicesFileEntries(parseServicesFile(text));
    assert.deepEqual(entry?.addresses, ['fd00::14']);
    assert.throws(
      () => parseServicesFile('[ ]\nkind = manager\n', 'f.cfg'),
      /^Error: f\.cfg line 1: expected \[section\]/,
    );
  });

  it('names the line of a malformed file in one message', () => {
    const cases: Array<[string, RegExp]> = [
      ['[a]\nkind = manager\nports = http:7780\naddresses = h\nnonsense\n', /^f\.cfg line 5: expected \[section\]/],
      ['kind = manager\n', /^f\.cfg line 1: "kind = manager" comes before any \[section\]/],
      ['[a]\nkind = robot\n', /^f\.cfg line 1 \[a\]: kind must be one of/],
      ['[a]\nkind = manager\nhost = h\nports = http:99999\n', /line 1 \[a\]: ports must read like http:7780/],
      ['[a]\nkind = manager\nhost = h\n[a]\n', /^f\.cfg line 4: a second section \[a\]/],
    ];
    for (const [text, message] of cases) {
      assert.throws(
        () => parseServicesFile(text, 'f.cfg'),
        (error: Error) => {
          assert.ok(error instanceof ServicesFileError);
          assert.match(error.message, message);
          assert.doesNotMatch(error.message, /\n/);
          return true;
        },
      );
    }
  });

  it('merging updates the matching section in place, keeping comments and its hand-written source', () => {
    const document = parseServicesFile(HAND_WRITTEN);
    const result = mergeIntoServicesDocument(document, [found()], new Date('2026-12-01T00:00:00Z'));
    assert.deepEqual(result, { added: 0, updated: 1 });
    const text = formatServicesFile(document);
    assert.match(text, /^# our farm\n\[the farm manager\]\n# on the rack, second shelf\nkind = manager/);
    assert.match(text, /version = 0\.2\.0/);
    assert.match(text, /uuid = 11111111-2222-5333-8444-555555555555/);
    assert.match(text, /source = hand/);
    assert.equal(text.match(/\[/g)?.length, 1);
  });

  it('merging twice adds no duplicates; a new service gets its own section', () => {
    const document = parseServicesFile(HAND_WRITTEN);
    const database = found({ kind: 'database', ports: { postgres: 7533 }, meta: { auth: 'cert' } });
    assert.deepEqual(mergeIntoServicesDocument(document, [found(), database]), { added: 1, updated: 1 });
    assert.deepEqual(mergeIntoServicesDocument(document, [found(), database]), { added: 0, updated: 2 });
    const text = formatServicesFile(document);
    const reread = servicesFileEntries(parseServicesFile(text));
    assert.equal(reread.length, 2);
    assert.deepEqual(reread[1]?.meta, { auth: 'cert' });
    assert.match(text, /\[database farm1:7533\]\nkind = database/);
  });
});
