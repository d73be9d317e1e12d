/**
 * Splits a child process's output into lines as it arrives. `\n`, `\r\n` and a lone `\r` all end a
 * line: ffmpeg rewrites its stats line with `\r`, and each rewrite is a progress report.
 */
import { StringDecoder } from 'node:string_decoder';

export class LineSplitter {
  readonly #decoder = new StringDecoder('utf8');
  readonly #onLine: (line: string) => void;
  #rest = '';
  /** The previous chunk ended in `\r`: a `\n` starting the next one belongs to it. */
  #afterCr = false;

  constructor(onLine: (line: string) => void) {
    this.#onLine = onLine;
  }

  push(chunk: Buffer | string): void {
    let text = typeof chunk === 'string' ? chunk : this.#decoder.write(chunk);
    if (this.#afterCr && text.startsWith('\n')) text = text.slice(1);
    if (text === '') return;
    this.#afterCr = text.endsWith('\r');
    const parts = (this.#rest + text).split(/\r\n|\r|\n/);
    this.#rest = parts.pop() ?? '';
    for (const line of parts) this.#onLine(line);
  }

  /** Flushes a last line that had no line end. */
  end(): void {
    const text = this.#rest + this.#decoder.end();
    this.#rest = '';
    if (text !== '') this.#onLine(text);
  }
}

/** Splits a whole text the same way (a final line end gives no empty last line). */
export function splitLines(text: string): string[] {
  const lines = text.split(/\r\n|\r|\n/);
  if (lines.at(-1) === '') lines.pop();
  return lines;
}
