/**
 * The on-disk half of the update queue: task updates that could not reach the manager, in the
 * order they were made, in one append-only file of JSON lines under `<home>/worker-queue/`:
 *
 *   journal.jsonl   {"seq":17,"taskId":"…","update":{"status":"completed","seq":17,…}}  one per line
 *   journal.cursor  byte offset of the first line not yet delivered
 *   seq             the next sequence number this worker may use (reserved in blocks)
 *
 * Lines are appended and fsynced before the caller is told they are safe; delivered lines are
 * never rewritten, only skipped by moving the cursor; once every line is delivered both files are
 * removed. Every file operation runs on one chain, so appends, cursor moves and the final reset
 * happen in the order they were asked for.
 */
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { TaskUpdate } from '../client/types.js';
import { isErrnoException } from '../util/errors.js';

export interface JournalEntry {
  seq: number;
  taskId: string;
  update: TaskUpdate;
}

export interface JournalRead {
  entries: Array<{ entry: JournalEntry | undefined; end: number }>;
}

/** Sequence numbers reserved per write of the `seq` file. */
const SEQ_BLOCK = 1000;
const READ_CHUNK = 1 << 20;

export class UpdateJournal {
  readonly dir: string;
  readonly #journalPath: string;
  readonly #cursorPath: string;
  readonly #seqPath: string;
  #chain: Promise<unknown> = Promise.resolve();
  /** Byte offset of the first undelivered line. */
  #cursor = 0;
  /** Bytes written to the journal (its size). */
  #size = 0;
  /** Lines not yet delivered. */
  #count = 0;
  #nextSeq = 1;
  #reservedUntil = 1;

  private constructor(dir: string) {
    this.dir = dir;
    this.#journalPath = join(dir, 'journal.jsonl');
    this.#cursorPath = join(dir, 'journal.cursor');
    this.#seqPath = join(dir, 'seq');
  }

  static async open(dir: string): Promise<UpdateJournal> {
    const journal = new UpdateJournal(dir);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await journal.#load();
    return journal;
  }

  /** Lines waiting to be delivered. */
  get count(): number {
    return this.#count;
  }

  get cursor(): number {
    return this.#cursor;
  }

  /**
   * The next sequence number. Numbers only grow, across restarts too: blocks of them are reserved
   * in the `seq` file before use, so a crash skips at most the rest of a block.
   */
  nextSeq(): number {
    if (this.#nextSeq >= this.#reservedUntil) {
      this.#reservedUntil = this.#nextSeq + SEQ_BLOCK;
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      const temp = `${this.#seqPath}.tmp`;
      writeFileSync(temp, `${this.#reservedUntil}\n`);
      renameSync(temp, this.#seqPath);
    }
    return this.#nextSeq++;
  }

  /** Appends entries in order; resolves once they are on disk. */
  append(entries: readonly JournalEntry[]): Promise<void> {
    if (entries.length === 0) return this.#run(async () => undefined);
    const text = entries.map((entry) => `${JSON.stringify(entry)}\n`).join('');
    return this.#run(async () => {
      const handle = await open(this.#journalPath, 'a', 0o600);
      try {
        await handle.write(text);
        await handle.datasync();
      } finally {
        await handle.close();
      }
      this.#size += Buffer.byteLength(text);
      this.#count += entries.length;
    });
  }

  /** Complete lines from the cursor on (at least one when there is one), with each line's end offset. */
  read(): Promise<JournalRead> {
    return this.#run(async () => {
      const entries: JournalRead['entries'] = [];
      if (this.#size <= this.#cursor) return { entries };
      const handle = await open(this.#journalPath, 'r');
      try {
        let length = Math.min(READ_CHUNK, this.#size - this.#cursor);
        for (;;) {
          const buffer = Buffer.alloc(length);
          const { bytesRead } = await handle.read(buffer, 0, length, this.#cursor);
          const text = buffer.subarray(0, bytesRead);
          let start = 0;
          for (let newline = text.indexOf(10); newline !== -1; newline = text.indexOf(10, start)) {
            const line = text.subarray(start, newline).toString('utf8');
            start = newline + 1;
            entries.push({ entry: parseEntry(line), end: this.#cursor + start });
          }
          if (entries.length > 0 || length >= this.#size - this.#cursor) break;
          length = Math.min(length * 2, this.#size - this.#cursor);
        }
      } finally {
        await handle.close();
      }
      return { entries };
    });
  }

  /** Marks every line before `offset` delivered (or skipped). */
  advance(offset: number, lines: number): Promise<void> {
    return this.#run(async () => {
      if (offset <= this.#cursor) return;
      this.#cursor = offset;
      this.#count = Math.max(0, this.#count - lines);
      const temp = `${this.#cursorPath}.tmp`;
      await writeFile(temp, `${offset}\n`);
      await rename(temp, this.#cursorPath);
    });
  }

  /** When every line is delivered, removes the files; true when the journal is empty now. */
  resetIfDelivered(): Promise<boolean> {
    return this.#run(async () => {
      if (this.#cursor < this.#size) return false;
      await rm(this.#journalPath, { force: true });
      await rm(this.#cursorPath, { force: true });
      this.#cursor = 0;
      this.#size = 0;
      this.#count = 0;
      return true;
    });
  }

  #run<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.#chain.then(operation);
    this.#chain = result.catch(() => undefined);
    return result;
  }

  async #load(): Promise<void> {
    try {
      const reserved = Number(readFileSync(this.#seqPath, 'utf8').trim());
      if (Number.isSafeInteger(reserved) && reserved > 0) {
        // Whatever the last run used lies below its reservation.
        this.#nextSeq = reserved;
        this.#reservedUntil = reserved;
      }
    } catch (error) {
      if (!isErrnoException(error, 'ENOENT')) throw error;
    }
    try {
      this.#size = (await stat(this.#journalPath)).size;
    } catch (error) {
      if (!isErrnoException(error, 'ENOENT')) throw error;
      this.#size = 0;
    }
    try {
      const cursor = Number((await readFile(this.#cursorPath, 'utf8')).trim());
      this.#cursor = Number.isSafeInteger(cursor) && cursor >= 0 ? Math.min(cursor, this.#size) : 0;
    } catch (error) {
      if (!isErrnoException(error, 'ENOENT')) throw error;
      this.#cursor = 0;
    }
    if (this.#size > this.#cursor) {
      const text = (await readFile(this.#journalPath)).subarray(this.#cursor);
      let count = 0;
      for (let index = text.indexOf(10); index !== -1; index = text.indexOf(10, index + 1)) count++;
      this.#count = count;
      // A torn last line (a crash mid-append) would block everything after it: cut it off.
      const lastNewline = text.lastIndexOf(10);
      const complete = this.#cursor + lastNewline + 1;
      if (complete < this.#size) {
        const handle = await open(this.#journalPath, 'r+');
        try {
          await handle.truncate(complete);
        } finally {
          await handle.close();
        }
        this.#size = complete;
      }
    }
  }
}

function parseEntry(line: string): JournalEntry | undefined {
  try {
    const value = JSON.parse(line) as Partial<JournalEntry>;
    if (
      typeof value.taskId !== 'string' ||
      typeof value.seq !== 'number' ||
      !value.update ||
      typeof value.update !== 'object'
    )
      return undefined;
    return value as JournalEntry;
  } catch {
    return undefined;
  }
}
