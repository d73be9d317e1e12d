import { appendFile, mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Task logs on the manager's disk: `<logs>/<job id>/<task id>.txt`. Appends are queued
 * per task so lines land in the order they arrived.
 */
/** A line the manager itself writes into a task's log (timeouts, failures), marked as such. */
export const managerLogLine = (note: string, at = new Date()): string => `[kiln manager] ${at.toISOString()} ${note}`;

export class TaskLogs {
  readonly #pending = new Map<string, Promise<void>>();
  constructor(readonly root: string) {}

  pathOf(jobId: string, taskId: string): string {
    return join(this.root, jobId, `${taskId}.txt`);
  }

  append(jobId: string, taskId: string, lines: string[]): Promise<void> {
    if (lines.length === 0) return Promise.resolve();
    const path = this.pathOf(jobId, taskId);
    const text = `${lines.map((line) => line.replace(/\r?\n$/, '')).join('\n')}\n`;
    const previous = this.#pending.get(taskId) ?? Promise.resolve();
    const next = previous.then(async () => {
      try {
        await appendFile(path, text);
      } catch {
        await mkdir(join(this.root, jobId), { recursive: true });
        await appendFile(path, text);
      }
    });
    const settled = next.catch(() => undefined);
    this.#pending.set(taskId, settled);
    void settled.then(() => {
      if (this.#pending.get(taskId) === settled) this.#pending.delete(taskId);
    });
    return next;
  }

  /** The last `count` lines, reading only the end of a large file. */
  async tail(jobId: string, taskId: string, count: number): Promise<string[]> {
    const path = this.pathOf(jobId, taskId);
    await this.#pending.get(taskId);
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch {
      return [];
    }
    const chunk = Math.min(size, Math.max(64 * 1024, count * 512));
    const handle = await open(path, 'r');
    try {
      const buffer = Buffer.alloc(chunk);
      await handle.read(buffer, 0, chunk, size - chunk);
      const lines = buffer.toString('utf8').split('\n');
      if (lines.at(-1) === '') lines.pop();
      if (chunk < size) lines.shift(); // probably cut in the middle
      return lines.slice(-count);
    } finally {
      await handle.close();
    }
  }

  async full(jobId: string, taskId: string): Promise<string> {
    await this.#pending.get(taskId);
    try {
      return await readFile(this.pathOf(jobId, taskId), 'utf8');
    } catch {
      return '';
    }
  }

  async removeJob(jobId: string): Promise<void> {
    await rm(join(this.root, jobId), { recursive: true, force: true });
  }
}
