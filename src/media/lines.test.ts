import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LineSplitter, splitLines } from './lines.js';

describe('LineSplitter', () => {
  it('splits on \\n, \\r\\n and lone \\r across chunk boundaries', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line));
    splitter.push('frame=  1 time=00:00:00.04\rframe=  2');
    splitter.push(' time=00:00:00.08\r');
    splitter.push('\nnext line\r\nlast');
    splitter.push(Buffer.from(' w\u00f6rd'.slice(0, 3)));
    splitter.push(Buffer.concat([Buffer.from('\u00f6').subarray(0, 1)]));
    splitter.push(Buffer.concat([Buffer.from('\u00f6').subarray(1), Buffer.from('rd\n\n')]));
    splitter.end();
    assert.deepEqual(lines, [
      'frame=  1 time=00:00:00.04',
      'frame=  2 time=00:00:00.08',
      'next line',
      'last w\u00f6\u00f6rd',
      '',
    ]);
  });

  it('flushes an unterminated last line on end', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((line) => lines.push(line));
    splitter.push('a\nb');
    splitter.end();
    assert.deepEqual(lines, ['a', 'b']);
    assert.deepEqual(splitLines('a\r\nb\rc\n'), ['a', 'b', 'c']);
  });
});
