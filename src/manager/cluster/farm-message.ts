/**
 * What one manager tells the others of a farm over NOTIFY, and how a message travels in
 * payloads below PostgreSQL's 8000-byte limit: the JSON is made pure ASCII (so characters are
 * bytes) and cut into pieces, each with a header naming the sender, the message and the piece.
 */
import type { FarmEvent } from '../../contract/index.js';

export interface FarmMessage {
  /** Committed changes, for the other managers' event streams. */
  events: FarmEvent[];
  /** Work may be ready: waiting workers should be served. */
  work: boolean;
  /** Workers whose long poll should end now (a control request, a sleep schedule). */
  release: string[];
  /** A manager started listening: the others now know someone hears them. */
  hello?: boolean;
  /** Whether the sender has event streams open (then the others send it their events). */
  streams?: boolean;
}

/** Bytes of a payload (PostgreSQL refuses 8000 and more), header included. */
export const MAX_PAYLOAD_BYTES = 7900;

/** "sender seq index/count\n" then the piece. */
const HEADER = /^(\S+) (\d+) (\d+)\/(\d+)\n/;

/** JSON with every non-ASCII character escaped, so its length in characters is its length in bytes. */
function asciiJson(message: FarmMessage): string {
  return JSON.stringify(message).replace(
    /[\u007f-\uffff]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** The payloads of one message, in order. */
export function encodeFarmMessage(sender: string, seq: number, message: FarmMessage): string[] {
  const json = asciiJson(message);
  const room = MAX_PAYLOAD_BYTES - `${sender} ${seq} 99999/99999\n`.length;
  const count = Math.max(1, Math.ceil(json.length / room));
  const payloads: string[] = [];
  for (let index = 0; index < count; index++)
    payloads.push(`${sender} ${seq} ${index}/${count}\n${json.slice(index * room, (index + 1) * room)}`);
  return payloads;
}

interface PartialMessage {
  pieces: string[];
  received: number;
  since: number;
}

/**
 * Puts messages back together from their pieces. Pieces of one message arrive together and in
 * order (one NOTIFY statement); a message left incomplete (the listener reconnected half-way)
 * is dropped after `staleMs`.
 */
export class FarmMessageAssembler {
  readonly #partial = new Map<string, PartialMessage>();

  constructor(private readonly staleMs = 10_000) {}

  /** The sender and message once complete; undefined for a piece of an unfinished one or a foreign payload. */
  add(payload: string, now = Date.now()): { sender: string; message: FarmMessage } | undefined {
    const header = HEADER.exec(payload);
    if (!header) return undefined;
    const [line, sender, seq, index, count] = header as unknown as [string, string, string, string, string];
    const piece = payload.slice(line.length);
    let json: string;
    if (count === '1') {
      json = piece;
    } else {
      const key = `${sender} ${seq}`;
      const partial = this.#partial.get(key) ?? ({ pieces: [], received: 0, since: now } as PartialMessage);
      this.#partial.set(key, partial);
      if (partial.pieces[Number(index)] === undefined) partial.received += 1;
      partial.pieces[Number(index)] = piece;
      this.#dropStale(now);
      if (partial.received < Number(count)) return undefined;
      this.#partial.delete(key);
      json = partial.pieces.join('');
    }
    try {
      return { sender, message: JSON.parse(json) as FarmMessage };
    } catch {
      return undefined;
    }
  }

  #dropStale(now: number): void {
    for (const [key, partial] of this.#partial) if (now - partial.since > this.staleMs) this.#partial.delete(key);
  }
}
