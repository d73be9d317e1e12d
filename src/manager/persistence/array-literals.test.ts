import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { integerArrayLiteral, uuidArrayLiteral } from './array-literals.js';

describe('array literals for hot statements', () => {
  it('joins uuids and integers, and refuses what would need escaping', () => {
    const id = '0b6f1c52-3a39-4f0e-9d0e-6a1f2b3c4d5e';
    assert.equal(uuidArrayLiteral([]), '{}');
    assert.equal(uuidArrayLiteral([id, id.toUpperCase()]), `{${id},${id.toUpperCase()}}`);
    assert.throws(() => uuidArrayLiteral([`${id},${id}`]), /not a uuid/);
    assert.throws(() => uuidArrayLiteral(['"}']), /not a uuid/);
    assert.equal(integerArrayLiteral([1, null, 42]), '{1,NULL,42}');
    assert.throws(() => integerArrayLiteral([1.5]), /not an integer/);
  });
});
