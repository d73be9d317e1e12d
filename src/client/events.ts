/**
 * Reading a Server-Sent Events stream (the manager's GET /api/v1/events) from a fetch body, as an
 * async iterator of { event, data }. Follows the WHATWG event-stream format: `event:`, `data:`
 * (several lines join with "\n"), `id:`, `retry:`, comments starting with ':', a blank line ends
 * an event.
 */
import { LineSplitter } from '../media/lines.js';

/** The manager's event kinds; other names pass through unchanged. */
type KilnEventName = 'job' | 'task' | 'worker' | 'log';

export interface ServerEvent {
  /** The `event:` field; "message" when the server gave none. */
  event: KilnEventName | (string & {});
  /** The `data:` field parsed as JSON, or the text when it is not JSON. */
  data: unknown;
  /** The last `id:` seen, for reconnecting with Last-Event-ID. */
  id?: string;
  /** A `retry:` the server sent with this event, in ms. */
  retry?: number;
}

/** Incremental parser: feed lines, get events. */
export class EventStreamParser {
  #event = '';
  #data: string[] = [];
  #id: string | undefined;
  #retry: number | undefined;

  /** One line without its line end; returns the event a blank line completes. */
  line(line: string): ServerEvent | undefined {
    if (line === '') return this.#dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.#event = value;
        break;
      case 'data':
        this.#data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) this.#id = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.#retry = Number(value);
        break;
      default:
        break;
    }
    return undefined;
  }

  #dispatch(): ServerEvent | undefined {
    const data = this.#data;
    const event = this.#event || 'message';
    const retry = this.#retry;
    this.#data = [];
    this.#event = '';
    this.#retry = undefined;
    if (data.length === 0) return undefined;
    const text = data.join('\n');
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not JSON: keep the text.
    }
    return {
      event,
      data: parsed,
      ...(this.#id === undefined ? {} : { id: this.#id }),
      ...(retry === undefined ? {} : { retry }),
    };
  }
}

/**
 * Events from a stream body until it ends or `signal` aborts (then the iterator just ends).
 * Leaving a for-await loop early cancels the body.
 */
export async function* readServerEvents(
  body: ReadableStream<Uint8Array>,
  signal?: AbortSignal,
): AsyncGenerator<ServerEvent> {
  const parser = new EventStreamParser();
  const ready: ServerEvent[] = [];
  // The splitter treats a lone '\r' as a line end too, as the format requires.
  const lines = new LineSplitter((line) => {
    const event = parser.line(line);
    if (event) ready.push(event);
  });
  const reader = body.getReader();
  const onAbort = (): void => {
    reader.cancel().catch(() => undefined);
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      if (signal?.aborted) return;
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (error) {
        if (signal?.aborted) return;
        throw error;
      }
      if (chunk.done) break;
      lines.push(Buffer.from(chunk.value));
      while (ready.length > 0) yield ready.shift() as ServerEvent;
    }
    // A stream that ends without a blank line drops the unfinished event, as browsers do.
  } finally {
    signal?.removeEventListener('abort', onAbort);
    reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
