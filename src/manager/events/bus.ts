import { EventEmitter } from 'node:events';

export type FarmEvent =
  | { type: 'job'; jobId: string; status: string; change: string }
  | {
      type: 'task';
      jobId: string;
      taskId: string;
      status: string;
      workerId: string | null;
      progress?: number;
      activity?: string;
    }
  | { type: 'worker'; workerId: string; status: string; change: string }
  | { type: 'log'; jobId: string; taskId: string; lines: string[] };

/**
 * In-process publish/subscribe of farm changes, published after the change committed.
 * The SSE endpoint forwards them; the dispatcher listens for "work may be ready".
 */
export class EventBus {
  readonly #emitter = new EventEmitter();
  constructor() {
    this.#emitter.setMaxListeners(0); // one listener per SSE client
  }
  publish(event: FarmEvent): void {
    this.#emitter.emit('event', event);
  }
  subscribe(listener: (event: FarmEvent) => void): () => void {
    this.#emitter.on('event', listener);
    return () => this.#emitter.off('event', listener);
  }
}
