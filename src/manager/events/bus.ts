import { EventEmitter } from 'node:events';
import type { FarmEvent } from '../../contract/index.js';

export type { FarmEvent };

/** Where a change was made: through this manager, or through another one of the farm (told over NOTIFY). */
export type EventOrigin = 'here' | 'elsewhere';

/**
 * In-process publish/subscribe of farm changes, published after the change committed.
 * The SSE endpoint forwards them; the farm link sends the ones made here to the other managers
 * and publishes theirs as 'elsewhere'.
 */
export class EventBus {
  readonly #emitter = new EventEmitter();
  constructor() {
    this.#emitter.setMaxListeners(0); // one listener per SSE client
  }
  publish(event: FarmEvent, origin: EventOrigin = 'here'): void {
    this.#emitter.emit('event', event, origin);
  }
  /** How many listeners there are (one per open event stream, and the manager's own). */
  get subscribers(): number {
    return this.#emitter.listenerCount('event');
  }
  subscribe(listener: (event: FarmEvent, origin: EventOrigin) => void): () => void {
    this.#emitter.on('event', listener);
    return () => this.#emitter.off('event', listener);
  }
}
