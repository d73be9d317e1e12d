import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../util/errors.js';
import { MAX_FRAMES, chunkFrames, formatFrames, parseFrameRange, splitRuns } from './frame-range.js';

test('parseFrameRange accepts ranges, lists and whitespace; sorts and removes duplicates', () => {
  const cases: Array<[string, number[]]> = [
    ['1-10', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]],
    ['1..10', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]],
    ['7', [7]],
    ['0', [0]],
    ['5-5', [5]],
    ['3,1,2', [1, 2, 3]],
    [' 1 - 3 , 10 ', [1, 2, 3, 10]],
    ['1 .. 3', [1, 2, 3]],
    ['1-3, 7,9..10', [1, 2, 3, 7, 9, 10]],
    ['1-4, 9', [1, 2, 3, 4, 9]],
    ['\t1-2 ,\t5\t', [1, 2, 5]],
    ['1-5,3-8,2', [1, 2, 3, 4, 5, 6, 7, 8]],
    ['4,4,4', [4]],
    ['0010', [10]],
    ['1..10,20..25,40,3..8', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20, 21, 22, 23, 24, 25, 40]],
  ];
  for (const [text, expected] of cases) assert.deepEqual(parseFrameRange(text), expected, text);
});

test('parseFrameRange refuses bad text with a UserError on the frames field', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /no frames given/],
    ['   ', /no frames given/],
    [' , ', /empty item/],
    ['1,,2', /empty item \(item 2\)/],
    ['1,2,', /empty item/],
    [',1', /empty item/],
    ['1 2', /"1 2": separate frames and ranges with commas, e\.g\. 1,2/],
    ['1-3 7 9..10', /separate frames and ranges with commas/],
    ['1,\n2', /one line/],
    ['1-10\n', /one line/],
    ['1\r', /one line/],
    ['abc', /"abc" is not a frame or a range/],
    ['1-x', /"1-x" is not a frame or a range/],
    ['1.5', /"1.5" is not a frame or a range/],
    ['1-2-3', /"1-2-3" is not a frame or a range/],
    ['10-1', /range 10-1 runs backwards/],
    ['10..1', /range 10..1 runs backwards/],
    ['-5', /cannot be negative/],
    ['1..-5', /cannot be negative/],
    ['99999999999999999999', /too large/],
    ['1-2000000', /too many frames/],
    ['0-999999,2000000', /too many frames/],
  ];
  for (const [text, message] of cases) {
    assert.throws(
      () => parseFrameRange(text),
      (error: unknown) =>
        error instanceof UserError &&
        error.field === 'frames' &&
        error.code === 'invalid_frames' &&
        message.test(error.message),
      JSON.stringify(text),
    );
  }
});

test('parseFrameRange allows exactly MAX_FRAMES frames, counting overlaps once', () => {
  assert.equal(parseFrameRange(`1-${MAX_FRAMES}`).length, MAX_FRAMES);
  assert.equal(parseFrameRange(`1-${MAX_FRAMES},1-${MAX_FRAMES}`).length, MAX_FRAMES);
});

test('formatFrames collapses runs of three or more', () => {
  const cases: Array<[number[], string]> = [
    [[], ''],
    [[40], '40'],
    [[9, 10], '9,10'],
    [[1, 2, 3], '1-3'],
    [[1, 2, 3, 4], '1-4'],
    [[9, 10, 20, 21], '9,10,20,21'],
    [[1, 2, 3, 5, 7, 8, 9, 10], '1-3,5,7-10'],
    [[0, 1, 2, 100], '0-2,100'],
  ];
  for (const [frames, expected] of cases) assert.equal(formatFrames(frames), expected, JSON.stringify(frames));
});

test('formatFrames round-trips through parseFrameRange', () => {
  for (const text of ['1-4', '9,10,20,21', '1-3,5,7-10', '0', '3,5'])
    assert.equal(formatFrames(parseFrameRange(text)), text);
});

test('chunkFrames cuts by count across gaps', () => {
  const chunks = chunkFrames(parseFrameRange('1..10,20..25,40,3..8'), 4);
  assert.deepEqual(chunks.map(formatFrames), ['1-4', '5-8', '9,10,20,21', '22-25', '40']);
  assert.deepEqual(chunkFrames([1, 2, 3], 10).map(formatFrames), ['1-3']);
  assert.deepEqual(chunkFrames([1, 2, 3], 1), [[1], [2], [3]]);
  assert.deepEqual(chunkFrames([], 4), []);
});

test('chunkFrames refuses a chunk size below 1 or not whole', () => {
  for (const size of [0, -1, 1.5, Number.NaN]) {
    assert.throws(
      () => chunkFrames([1, 2], size),
      (error: unknown) => error instanceof UserError && error.field === 'chunk' && /chunk size/.test(error.message),
      String(size),
    );
  }
});

test('splitRuns splits at gaps', () => {
  assert.deepEqual(splitRuns([1, 2, 3, 7, 9, 10]), [[1, 2, 3], [7], [9, 10]]);
  assert.deepEqual(splitRuns([]), []);
  assert.deepEqual(splitRuns([5, 4]), [[5], [4]]);
});
