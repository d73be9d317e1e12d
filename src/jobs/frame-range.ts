import { UserError } from '../util/errors.js';

/** The most frames one job may ask for; protects the manager from `1-999999999`. */
export const MAX_FRAMES = 1_000_000;

const invalid = (message: string): UserError => new UserError(message, { field: 'frames', code: 'invalid_frames' });

/** Spaces and tabs only: a newline or other control character in a frame range is a mistake. */
const BLANK = /^[ \t]*$/;

/**
 * Parses frame range text into sorted, distinct, non-negative frame numbers.
 * Items are single frames (`7`) or inclusive ranges (`1-10`, `1..10`), separated by commas;
 * spaces and tabs are allowed around items and around `-` and `..` (`1-4, 9`, `1 - 10`).
 * Refused, because each is more likely a typing mistake than a wish: empty items (`1,,2`, a
 * trailing comma), items separated by spaces only (`1 2`), newlines and other control characters.
 */
export function parseFrameRange(text: string): number[] {
  const source = String(text ?? '');
  if (BLANK.test(source)) throw invalid('no frames given; use a range like 1-250, 1..250 or a list like 1,5,10-20');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: input validation; these are the characters refused
  if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(source))
    throw invalid('frames must be on one line, without control characters; separate items with commas');
  const items = source.split(',').map((item) => item.replace(/[ \t]*(-|\.\.)[ \t]*/g, '$1').trim());
  const empty = items.indexOf('');
  if (empty >= 0)
    throw invalid(`"${source.trim().slice(0, 60)}" has an empty item (item ${empty + 1}); remove the extra comma`);
  const spaced = items.find((item) => /[ \t]/.test(item));
  if (spaced)
    throw invalid(`"${spaced}": separate frames and ranges with commas, e.g. ${spaced.split(/[ \t]+/).join(',')}`);

  const ranges: Array<[number, number]> = [];
  for (const item of items) ranges.push(parseItem(item));

  // Merge overlapping and touching ranges first, so the count is exact and cheap to check
  // before any array of frames is built.
  ranges.sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [];
  let count = 0;
  for (const [first, last] of ranges) {
    const previous = merged.at(-1);
    if (previous && first <= previous[1] + 1) {
      if (last > previous[1]) {
        count += last - previous[1];
        previous[1] = last;
      }
    } else {
      merged.push([first, last]);
      count += last - first + 1;
    }
    if (count > MAX_FRAMES) {
      throw invalid(
        `too many frames: "${text.trim().slice(0, 60)}" asks for more than ${MAX_FRAMES.toLocaleString('en-US')} frames`,
      );
    }
  }

  const frames = new Array<number>(count);
  let index = 0;
  for (const [first, last] of merged) for (let frame = first; frame <= last; frame++) frames[index++] = frame;
  return frames;
}

function parseItem(item: string): [number, number] {
  const match = /^(\d+)(?:(-|\.\.)(\d+))?$/.exec(item);
  if (!match) {
    if (/^-\d/.test(item) || /(-|\.\.)-\d/.test(item)) throw invalid(`"${item}": frame numbers cannot be negative`);
    throw invalid(`"${item}" is not a frame or a range; use forms like 5, 1-10, 1..10 or 1-10,20`);
  }
  const [, firstDigits, separator, lastDigits] = match;
  if (firstDigits === undefined) throw new Error(`the frame pattern matched "${item}" without its first number`);
  const first = toFrame(firstDigits, item);
  if (lastDigits === undefined) return [first, first];
  const last = toFrame(lastDigits, item);
  if (last < first) throw invalid(`range ${item} runs backwards; write ${last}${separator}${first}`);
  return [first, last];
}

function toFrame(digits: string, item: string): number {
  const frame = Number(digits);
  if (!Number.isSafeInteger(frame)) throw invalid(`"${item}": frame number ${digits} is too large`);
  return frame;
}

/**
 * Prints frames compactly, in the order given: runs of 3 or more consecutive frames become
 * `a-b`, everything else is a comma list. `[1,2,3,4]` is `1-4`, `[9,10,20,21]` is `9,10,20,21`.
 */
export function formatFrames(frames: readonly number[]): string {
  const parts: string[] = [];
  for (const run of splitRuns(frames)) {
    const first = run[0];
    const last = run.at(-1);
    if (run.length >= 3 && first !== undefined && last !== undefined) parts.push(`${first}-${last}`);
    else parts.push(...run.map(String));
  }
  return parts.join(',');
}

/**
 * Splits frames into runs of consecutive ascending numbers, in the order given:
 * `[1,2,3,7,9,10]` gives `[[1,2,3],[7],[9,10]]`.
 */
export function splitRuns(frames: readonly number[]): number[][] {
  const runs: number[][] = [];
  let current: number[] = [];
  for (const frame of frames) {
    const previous = current.at(-1);
    if (previous !== undefined && frame !== previous + 1) {
      runs.push(current);
      current = [];
    }
    current.push(frame);
  }
  if (current.length > 0) runs.push(current);
  return runs;
}

/**
 * Cuts frames into consecutive groups of `size` frames (the last may be shorter), regardless of
 * gaps: `1..10,20..25,40` in chunks of 4 gives `1-4`, `5-8`, `9,10,20,21`, `22-25`, `40`.
 */
export function chunkFrames(frames: readonly number[], size: number): number[][] {
  if (!Number.isInteger(size) || size < 1) {
    throw new UserError(`chunk size must be a whole number of at least 1, got ${String(size)}`, {
      field: 'chunk',
      code: 'invalid_chunk_size',
    });
  }
  const chunks: number[][] = [];
  for (let start = 0; start < frames.length; start += size) chunks.push(frames.slice(start, start + size));
  return chunks;
}
