import { InvalidCheckoutPathError } from './errors.js';

/** First segments of a checkout path that Kiln keeps for itself (temp and trash folders). */
export const RESERVED_PREFIX = '.kiln';

/**
 * Validates a relative posix path such as a checkout path or a file path inside a checkout and
 * returns it without trailing slashes. Refused: empty, absolute (`/x`, `C:x`), backslashes (so
 * that no Windows reader sees `..\`), `.` and `..` segments, empty segments, control characters,
 * and segments longer than 255 bytes. Throws InvalidCheckoutPathError.
 */
export function checkRelativePath(path: unknown, field = 'path'): string {
  const text = typeof path === 'string' ? path : '';
  const fail = (reason: string): never => {
    throw new InvalidCheckoutPathError(text, reason, field);
  };
  if (typeof path !== 'string') fail('it is not a string');
  if (text.includes('\\')) fail('it contains a backslash; use / between folders');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: input validation; these are the characters refused
  if (/[\u0000-\u001f\u007f]/.test(text)) fail('it contains a control character');
  if (text.startsWith('/')) fail('it is absolute; give a path relative to the checkout folder');
  if (/^[A-Za-z]:/.test(text)) fail('it starts with a drive letter; give a relative path');
  const trimmed = text.replace(/\/+$/, '');
  if (trimmed === '') fail('it is empty');
  for (const segment of trimmed.split('/')) {
    if (segment === '') fail('it contains an empty folder name (//)');
    if (segment === '.' || segment === '..') fail(`it contains a "${segment}" segment`);
    if (Buffer.byteLength(segment) > 255) fail('a name in it is longer than 255 bytes');
  }
  return trimmed;
}

/** Like checkRelativePath, and also refuses the names Kiln reserves at the top of the checkout folder. */
export function checkCheckoutPath(path: unknown, field = 'checkoutPath'): string {
  const checked = checkRelativePath(path, field);
  if (checked.startsWith(RESERVED_PREFIX))
    throw new InvalidCheckoutPathError(checked, `names starting with "${RESERVED_PREFIX}" are reserved`, field);
  return checked;
}
