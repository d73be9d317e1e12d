import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCidr, withAllow, withDeny, renderHba, defaultRules, type AccessRule } from './access-rules.js';
import { computeConnectionLimit } from './limits.js';

test('parseCidr normalises networks and single hosts, and refuses junk', () => {
  const cases: Array<[string, string]> = [
    ['10.1.2.3/8', '10.0.0.0/8'],
    ['192.168.1.7', '192.168.1.7/32'],
    [' fd00::1/8 ', 'fd00::/8'],
    ['::1', '::1/128'],
  ];
  for (const [input, expected] of cases) assert.equal(parseCidr(input), expected, input);
  for (const bad of ['', 'abc', '10.0.0.0/33', '300.1.1.1', '10.0.0.0/'])
    assert.throws(() => parseCidr(bad), /invalid CIDR/, bad);
});

test('deny wins over allow, and the last word on a network replaces the earlier one', () => {
  let rules: AccessRule[] = defaultRules('trust');
  rules = withDeny(rules, '10.0.0.0/8');
  rules = withAllow(rules, { cidr: '10.0.0.0/8', user: 'kiln', database: 'all' });
  assert.deepEqual(
    rules.filter((r) => r.cidr === '10.0.0.0/8').map((r) => r.action),
    ['allow'],
  );
  rules = withDeny(rules, '10.0.0.0/8');
  assert.deepEqual(
    rules.filter((r) => r.cidr === '10.0.0.0/8').map((r) => r.action),
    ['deny'],
  );
  const hba = renderHba(rules, 'trust').split('\n');
  const denyLine = hba.findIndex((line) => line.includes('10.0.0.0/8 reject'));
  const allowAll = hba.findIndex((line) => line.includes('0.0.0.0/0 trust'));
  assert.ok(denyLine > 0 && denyLine < allowAll, 'deny lines come before allow lines');
});

test('cert mode refuses plain TCP before any rule and authenticates by certificate', () => {
  const hba = renderHba(defaultRules('cert'), 'cert');
  assert.match(hba, /^hostnossl all all 0\.0\.0\.0\/0 reject$/m);
  assert.match(hba, /^hostssl all all 127\.0\.0\.0\/8 cert$/m);
  assert.doesNotMatch(hba, /0\.0\.0\.0\/0 cert/);
});

test('connection limit: 7 + 10 x clients, capped below the open-files limit', () => {
  const table: Array<[number, number | undefined, number, boolean]> = [
    [10, 1_048_576, 107, false],
    [1, undefined, 17, false],
    [50, 400, 336, true],
    [50, 60, 10, true], // never below the minimum PostgreSQL needs
  ];
  for (const [clients, files, max, capped] of table) {
    const limit = computeConnectionLimit(clients, files);
    assert.equal(limit.maxConnections, max, `${clients} clients, ${files} files`);
    assert.equal(limit.capped, capped);
  }
});
