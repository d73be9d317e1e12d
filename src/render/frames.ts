/**
 * Frame numbers and output patterns for the built-in renderer, following Blender's conventions so
 * the worker treats both renderers alike.
 */
import { UserError } from '../util/errors.js';

/** Blender's largest frame number (MAXFRAME). */
const MAX_FRAME = 1_048_574;

export function assertFrame(frame: number, field = 'frame'): void {
  if (!Number.isSafeInteger(frame) || frame < 0 || frame > MAX_FRAME) {
    throw new UserError(`${field} must be a whole number from 0 to ${MAX_FRAME} (got ${String(frame)})`, { field });
  }
}

/**
 * Parses a frame list: comma-separated frames and ranges `a-b` or `a..b` (inclusive), whitespace
 * allowed. Returns the frames sorted with duplicates removed.
 */
export function parseFrameList(text: string): number[] {
  const frames = new Set<number>();
  const items = text.split(',').map((item) => item.replace(/\s+/g, ''));
  if (items.every((item) => item === '')) throw new UserError('the frame list is empty', { field: 'frames' });
  for (const item of items) {
    if (item === '') continue;
    const match = /^(\d+)(?:(?:-|\.\.)(\d+))?$/.exec(item);
    if (!match)
      throw new UserError(`not a frame or a frame range: "${item}" (use e.g. 1,2,5-8 or 1..10)`, { field: 'frames' });
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    assertFrame(first, 'frames');
    assertFrame(last, 'frames');
    if (last < first) throw new UserError(`frame range "${item}" runs backwards`, { field: 'frames' });
    if (last - first > 100_000) throw new UserError(`frame range "${item}" is too long`, { field: 'frames' });
    for (let frame = first; frame <= last; frame++) frames.add(frame);
  }
  return [...frames].sort((a, b) => a - b);
}

/**
 * The file a frame is written to. Like Blender, the last run of `#` in the pattern becomes the
 * frame number zero-padded to the run's length (`####` gives at least 4 digits; longer numbers are
 * never cut), and a pattern without an extension gets `.png`. The pattern must contain a `#`
 * (otherwise every frame would overwrite the same file) and may only name a PNG file.
 */
export function frameOutputPath(pattern: string, frame: number): string {
  assertFrame(frame);
  const match = /#+(?=[^#]*$)/.exec(pattern);
  if (!match)
    throw new UserError(`output pattern must contain #### for the frame number (got "${pattern}")`, {
      field: 'output',
    });
  const name =
    pattern.slice(0, match.index) +
    String(frame).padStart(match[0].length, '0') +
    pattern.slice(match.index + match[0].length);
  const base = name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);
  const dot = base.lastIndexOf('.');
  if (dot <= 0) return `${name}.png`;
  const extension = base.slice(dot + 1).toLowerCase();
  if (extension === 'png') return name;
  // A dot followed by digits or text that is not an image extension (e.g. "shot.v2_####") is part of the name.
  if (IMAGE_EXTENSIONS.has(extension)) {
    throw new UserError(`the built-in renderer writes PNG files only (output pattern ends in .${extension})`, {
      field: 'output',
    });
  }
  return `${name}.png`;
}

const IMAGE_EXTENSIONS = new Set([
  'jpg',
  'jpeg',
  'exr',
  'tif',
  'tiff',
  'tga',
  'bmp',
  'webp',
  'hdr',
  'dpx',
  'jp2',
  'gif',
  'avif',
  'heic',
  'mp4',
  'mov',
  'mkv',
]);
