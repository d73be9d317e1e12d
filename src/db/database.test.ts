import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../util/errors.js';
import { urlDatabaseTarget } from './database.js';

test('urlDatabaseTarget reads TCP and Unix-socket URLs and refuses what is not one', () => {
  assert.equal(urlDatabaseTarget('postgresql://kiln@db.studio:7533/kiln').description, 'db.studio:7533/kiln');
  assert.equal(urlDatabaseTarget('postgres://kiln@/kiln?host=/run/postgresql&port=7533').description, '/run/postgresql 7533/kiln');
  assert.equal(urlDatabaseTarget('postgresql://kiln@/kiln?host=%2Ftmp%2Fpg').description, '/tmp/pg 5432/kiln');
  for (const bad of ['db.studio:7533', 'http://db/kiln', 'kiln']) {
    assert.throws(() => urlDatabaseTarget(bad), (error: unknown) => error instanceof UserError && /^database_url: /.test(error.message), bad);
  }
});
