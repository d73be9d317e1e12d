/**
 * The I/O priority protocol (docs/io-priority.md): line-delimited JSON over TCP (default port
 * 8244), every message one object on one line with the protocol version `v` and a `type`.
 * A listener answers a line it cannot read (not JSON, not an object, another version, too long)
 * with an `error` message and closes that one connection; types it does not know are ignored, so
 * later versions can add messages without breaking older peers.
 */
import { StringDecoder } from 'node:string_decoder';

const IO_PROTOCOL_VERSION = 1;
/** A longer line is garbage: no message of this protocol comes near it. */
const MAX_LINE_BYTES = 64 * 1024;
/** Program names and host names are cut to this. */
const MAX_TEXT = 200;

export type ClientRole = 'background' | 'foreground' | 'observer';

/** Who holds, as clients are told. */
export interface HolderInfo {
  program: string;
  pid?: number | undefined;
  host?: string | undefined;
  /** ISO time the hold began. */
  since: string;
}

interface StateMessage {
  v: number;
  type: 'state';
  held: boolean;
  /** ISO time the current real-time section began (overlapping holds count as one); null when not held. */
  since: string | null;
  holders: HolderInfo[];
}

export interface StatusMessage {
  v: number;
  type: 'status';
  held: boolean;
  since: string | null;
  holders: HolderInfo[];
  clients: { background: number; waiting: number; foreground: number; observers: number };
  listener: { program: string; pid: number; host: string; since: string };
}

/** What a listener sends. */
export type ListenerMessage =
  | StateMessage
  | StatusMessage
  | { v: number; type: 'ping' }
  /** The listener is closing while joined programs hold: one of them listens next; stay paused briefly. */
  | { v: number; type: 'handover' }
  | { v: number; type: 'holding'; id: string }
  | { v: number; type: 'error'; message: string };

/** What a client sends. */
export type ClientMessage =
  | { v: number; type: 'hello'; role: ClientRole; program?: string; pid?: number; host?: string }
  | { v: number; type: 'hold'; id: string; program?: string; pid?: number; host?: string }
  | { v: number; type: 'release'; id: string }
  | { v: number; type: 'waiting'; waiting: boolean }
  | { v: number; type: 'status' };

type WithoutVersion<T> = T extends unknown ? Omit<T, 'v'> : never;

/** One message as a line, version added. */
export function encodeMessage(message: WithoutVersion<ListenerMessage> | WithoutVersion<ClientMessage>): string {
  return `${JSON.stringify({ v: IO_PROTOCOL_VERSION, ...message })}\n`;
}

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

/** A parsed line: an object of this version with a string `type` (other fields checked by the reader). */
export function parseLine(line: string): { type: string } & Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new ProtocolError('not JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ProtocolError('not an object');
  const record = value as Record<string, unknown>;
  if (record.v !== IO_PROTOCOL_VERSION)
    throw new ProtocolError(`unsupported version ${JSON.stringify(record.v)}; this side speaks ${IO_PROTOCOL_VERSION}`);
  if (typeof record.type !== 'string') throw new ProtocolError('no "type"');
  return record as { type: string } & Record<string, unknown>;
}

/** A short text field (program, host, id): cut to size; undefined when absent or not a string. */
export function textField(value: unknown): string | undefined {
  return typeof value === 'string' ? value.slice(0, MAX_TEXT) : undefined;
}

export function pidField(value: unknown): number | undefined {
  return Number.isSafeInteger(value) && (value as number) > 0 ? (value as number) : undefined;
}

/**
 * Splits a socket's bytes into lines; a line longer than MAX_LINE_BYTES is an error (the
 * connection is then closed by the caller). Empty lines are skipped.
 */
export class LineReader {
  readonly #decoder = new StringDecoder('utf8');
  #rest = '';

  constructor(readonly onLine: (line: string) => void) {}

  push(chunk: Buffer): void {
    const text = this.#rest + this.#decoder.write(chunk);
    let start = 0;
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      const line = text.slice(start, end).trim();
      start = end + 1;
      if (line.length > MAX_LINE_BYTES) throw new ProtocolError('line too long');
      if (line !== '') this.onLine(line);
    }
    this.#rest = text.slice(start);
    if (this.#rest.length > MAX_LINE_BYTES) throw new ProtocolError('line too long');
  }
}
