import type { ServerResponse } from 'node:http';

/**
 * How much of the stream one client may leave unread (in Node's buffers, past what the kernel
 * holds) before it is dropped. A dashboard that stops reading then costs at most this much; it
 * reconnects and reads the farm's state afresh.
 */
export const MAX_UNREAD_BYTES = 1024 * 1024;

/**
 * One Server-Sent Events connection with a bounded buffer: `send` writes while the client keeps
 * up and drops it (closing the connection) once `maxUnreadBytes` wait unread.
 */
export class EventStream {
  #closed = false;

  constructor(
    private readonly raw: ServerResponse,
    private readonly onClose: () => void,
    private readonly maxUnreadBytes = MAX_UNREAD_BYTES,
  ) {
    raw.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    raw.write(': kiln events\n\n');
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Writes one event (`name`, `data` as JSON) unless the client is too far behind. */
  send(name: string, data: unknown): void {
    this.#write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  /** A comment line: keeps proxies and idle timeouts from closing a quiet stream. */
  keepAlive(): void {
    this.#write(': keep-alive\n\n');
  }

  #write(text: string): void {
    if (this.#closed) return;
    // writableLength counts what waits in the response and its socket: what the client has not taken.
    if (this.raw.writableLength > this.maxUnreadBytes) {
      this.raw.destroy();
      this.close();
      return;
    }
    this.raw.write(text);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.raw.writableEnded && !this.raw.destroyed) this.raw.end();
    this.onClose();
  }
}
