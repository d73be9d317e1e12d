import { randomBytes } from 'node:crypto';

/** Hex digit → the RFC 9562 variant digit (binary 10xx) with the same two low bits. */
const VARIANT: Record<string, string> = Object.fromEntries(
  [...'0123456789abcdef'].map((digit) => [digit, ((parseInt(digit, 16) & 3) | 8).toString(16)]),
);

/**
 * `count` UUIDv7s (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits. Ids made
 * together sort together, so inserting 100,000 of them appends to the primary-key index
 * instead of touching a random page per row. The random bits come from one draw.
 */
export function timeOrderedUuids(count: number, now = Date.now()): string[] {
  const time = now.toString(16).padStart(12, '0');
  const prefix = `${time.slice(0, 8)}-${time.slice(8, 12)}-7`;
  const random = randomBytes(count * 10).toString('hex');
  const ids = new Array<string>(count);
  for (let i = 0, at = 0; i < count; i++, at += 20) {
    ids[i] =
      `${prefix}${random.slice(at, at + 3)}-${VARIANT[random.charAt(at + 3)]}${random.slice(at + 4, at + 7)}-${random.slice(at + 7, at + 19)}`;
  }
  return ids;
}
