import { EventEmitter } from 'node:events';
import type { FarmEvent } from '../../contract/index.js';

export type { FarmEvent };

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
  /** How many listeners there are (one per open event stream, and the manager's own). */
  get subscribers(): number {
    return this.#emitter.listenerCount('event');
  }
  subscribe(listener: (event: FarmEvent) => void): () => void {
    this.#emitter.on('event', listener);
    return () => this.#emitter.off('event', listener);
  }
}
