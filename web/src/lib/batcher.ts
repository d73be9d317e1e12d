/**
 * Gathers ids that changed and handles them together after `delayMs`: a burst of events about
 * one job costs one read, and many changes at once cost one reload.
 */
export function makeBatcher(delayMs: number, handle: (ids: Set<string>) => Promise<void>): (id: string) => void {
  let pending = new Set<string>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const queue = { tail: Promise.resolve() };
  return (id) => {
    pending.add(id);
    if (timer !== undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      const ids = pending;
      pending = new Set();
      queue.tail = queue.tail.then(() => handle(ids)).catch(() => undefined);
    }, delayMs);
  };
}
