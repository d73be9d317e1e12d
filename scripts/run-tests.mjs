// Runs every compiled *.test.js under dist/ with Node's test runner.
// (Node 20's --test does not expand globs itself.)
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function find(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) find(path, out);
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

const filter = process.argv.slice(2);
let files = find('dist/src').sort();
if (filter.length) files = files.filter((f) => filter.some((p) => f.includes(p)));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=300000', ...files], {
  stdio: 'inherit',
  // Belt and braces: whatever a test starts without its own environment stays off the host's
  // network (multicast and mDNS); namespaced tests turn discovery on for what they start there.
  env: {
    ...process.env,
    KILN_SELF_DISCOVERY: 'off',
    KILN_DNS_SD: 'off',
    KILN_MANAGER_DISCOVERY_DNS_SD: 'false',
    KILN_MANAGER_DISCOVERY_ENABLED: 'false',
  },
});
process.exit(result.status ?? 1);
