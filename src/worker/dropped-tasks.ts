/**
 * Tasks the manager took away from this worker (it answered 409 or 404 to an update): their late
 * updates are ignored, and whoever watches a task (the task runner) is told so it stops it.
 */

/** Dropped task ids remembered (their late updates are ignored). */
const MAX_DROPPED = 1000;

export class DroppedTasks {
  readonly #dropped = new Set<string>();
  readonly #watchers = new Map<string, Set<() => void>>();

  has(taskId: string): boolean {
    return this.#dropped.has(taskId);
  }

  /** Remembers the task as dropped (the oldest is forgotten past MAX_DROPPED). */
  add(taskId: string): void {
    if (this.#dropped.size >= MAX_DROPPED) this.#dropped.delete(this.#dropped.values().next().value as string);
    this.#dropped.add(taskId);
  }

  /** The task is this worker's (again). */
  forget(taskId: string): void {
    this.#dropped.delete(taskId);
  }

  /** Calls `listener` each time the task is dropped; returns the way to stop watching. */
  watch(taskId: string, listener: () => void): () => void {
    const watchers = this.#watchers.get(taskId) ?? new Set<() => void>();
    this.#watchers.set(taskId, watchers);
    watchers.add(listener);
    return () => {
      watchers.delete(listener);
      if (watchers.size === 0) this.#watchers.delete(taskId);
    };
  }

  notify(taskId: string): void {
    for (const listener of this.#watchers.get(taskId) ?? []) listener();
  }
}
