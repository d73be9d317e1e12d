import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

// Compiled to dist/src/repo.test.js: the repository root is two levels up.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

/** The one command of the fenced sh block that follows README's "Run every test" line. */
function readmeTestCommand(): string {
  const lines = read('README.md').split('\n');
  const intro = lines.findIndex((line) => /Run every test/.test(line));
  assert.ok(intro >= 0, 'README.md has a "Run every test" line');
  const open = lines.findIndex((line, n) => n > intro && /^```/.test(line));
  assert.ok(open > intro, 'a fenced block follows it');
  assert.equal(lines[open], '```sh', 'the block is marked sh');
  const close = lines.findIndex((line, n) => n > open && /^```\s*$/.test(line));
  assert.ok(close > open, 'the block is closed');
  const body = lines
    .slice(open + 1, close)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  assert.equal(body.length, 1, `one command in the block, got ${JSON.stringify(body)}`);
  return body[0]!;
}

test("README's test command is exactly what .ci/run runs, from the repository root", () => {
  const command = readmeTestCommand();
  assert.match(command, /\bnpm test\b/, 'the command runs the test script');

  const script = read('.ci/run').split('\n');
  assert.match(script[0] ?? '', /^#!.*\b(bash|sh)\b/, '.ci/run starts with a shell shebang');
  const code = script.map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
  const last = code.at(-1);
  assert.equal(last, command, '.ci/run ends with exactly the README command');
  const cd = code.findIndex((line) => /^cd\s/.test(line));
  assert.ok(cd >= 0 && cd < code.length - 1, '.ci/run changes directory before the command');
  assert.equal(code[cd], 'cd "$(dirname "$0")/.."', 'to the repository root (the parent of .ci/)');
  // Nothing but shell options and that cd comes before it: CI runs the command, not more.
  assert.deepEqual(
    code.slice(0, -1).filter((line, n) => n !== cd && !/^set\s+-[euxo\s]*(pipefail)?$/.test(line)),
    [],
  );
});

test('.ci/run is executable and package.json has the test script', () => {
  const mode = statSync(join(ROOT, '.ci', 'run')).mode;
  assert.equal(mode & 0o111, 0o111, `.ci/run is executable by everyone (mode ${(mode & 0o777).toString(8)})`);

  const pkg = JSON.parse(read('package.json')) as { scripts?: Record<string, string> };
  const testScript = pkg.scripts?.test;
  assert.equal(typeof testScript, 'string', 'package.json has a "test" script');
  assert.notEqual(testScript!.trim(), '');
  assert.doesNotMatch(testScript!, /no test specified/, "not npm init's placeholder");
  assert.match(testScript!, /npm run build/, 'the tests run against a fresh build');
});
