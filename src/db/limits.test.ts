import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeConnectionLimit, connectionCeiling, fileHeadroom } from './limits.js';
import { findMaxConnections, preparePostgresqlConf } from './hand-settings.js';

test("connection ceiling: the seed's example, 8,192 files give about 7,000 connections and keep about 1,200", () => {
  assert.equal(fileHeadroom(8192), 1171);
  assert.equal(connectionCeiling(8192), 7021);
  const limit = computeConnectionLimit(1000, 8192);
  assert.equal(limit.maxConnections, 7021);
  assert.equal(limit.capped, true);
  assert.match(limit.explanation, /capped to the open-files limit 8192 minus 1171 kept for the server's other files/);
  // Small limits keep PostgreSQL's floor of 64; large ones keep one file in seven.
  const table: Array<[number, number]> = [
    [400, 336],
    [1024, 877],
    [20000, 17142],
    [1_048_576, 898_779],
  ];
  for (const [files, ceiling] of table) assert.equal(connectionCeiling(files), ceiling, `${files} files`);
  const roomy = computeConnectionLimit(10, 20000);
  assert.equal(roomy.maxConnections, 107);
  assert.match(roomy.explanation, /the open-files limit 20000 allows up to 17142, keeping 2858/);
});

test('a figure an administrator set is kept as it is, with a warning past the ceiling', () => {
  const kept = computeConnectionLimit(10, 8192, { value: 300, source: 'postgresql.conf' });
  assert.equal(kept.maxConnections, 300);
  assert.equal(kept.source, 'postgresql.conf');
  assert.equal(kept.overCeiling, false);
  assert.match(
    kept.explanation,
    /^max_connections 300: set by hand in postgresql.conf, kept as it is \(Kiln's rule would give 107/,
  );
  const over = computeConnectionLimit(10, 400, { value: 500, source: 'kiln db set' });
  assert.equal(over.maxConnections, 500);
  assert.equal(over.overCeiling, true);
  assert.match(over.explanation, /set with `kiln db set`.*above the 336 the open-files limit 400 leaves room for/);
});

test("hand-set max_connections: the last active line wins, initdb's own line and comments do not count", () => {
  const initdb = 'port = 5432\nmax_connections = 100\t\t\t# (change requires restart)\n#max_connections = 5\n';
  assert.equal(findMaxConnections(initdb), undefined);
  assert.equal(findMaxConnections(`${initdb}max_connections = 300\n`), 300);
  assert.equal(findMaxConnections("max_connections = '250' # ALTER SYSTEM writes quotes\n"), 250);
  assert.equal(findMaxConnections('MAX_CONNECTIONS 40\nmax_connections=60\n'), 60);
  const prepared = preparePostgresqlConf(initdb, 'kiln.conf');
  assert.equal(findMaxConnections(prepared), undefined);
  assert.match(prepared, /^#max_connections = 100\t# set by Kiln in kiln.conf/m);
  assert.match(prepared, /\ninclude_if_exists = 'kiln.conf'\n$/);
});
