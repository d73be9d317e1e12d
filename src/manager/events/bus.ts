import { EventEmitter } from 'node:events';
import type { FarmEvent } from '../../contract/index.js';

export type { FarmEvent };

/** Where a change was made: through this manager, or through another one of the farm (told over NOTIFY). */
export type EventOrigin = 'here' | 'elsewhere';

type Listener = (event: FarmEvent, origin: EventOrigin) => void;

/**
 * In-process publish/subscribe of farm changes, published after the change committed.
 * Subscribers are the event streams (SSE); the farm link taps the bus to send the changes made
 * here to the other managers (only while one of them has streams open) and publishes theirs as
 * 'elsewhere'.
 */
export class EventBus {
  readonly #emitter = new EventEmitter();
  readonly #taps = new Set<Listener>();
  readonly #watchers = new Set<(subscribers: number) => void>();
  constructor() {
    this.#emitter.setMaxListeners(0); // one listener per SSE client
  }
  publish(event: FarmEvent, origin: EventOrigin = 'here'): void {
    for (const tap of this.#taps) tap(event, origin);
    this.#emitter.emit('event', event, origin);
  }
  /** How many subscribers there are (one per open event stream). */
  get subscribers(): number {
    return this.#emitter.listenerCount('event');
  }
  subscribe(listener: Listener): () => void {
    this.#emitter.on('event', listener);
    this.#changed();
    return () => {
      this.#emitter.off('event', listener);
      this.#changed();
    };
  }
  /** Sees every event without counting as a subscriber (the farm link). */
  tap(listener: Listener): () => void {
    this.#taps.add(listener);
    return () => this.#taps.delete(listener);
  }
  /** Told the number of subscribers whenever it changes. */
  watchSubscribers(watcher: (subscribers: number) => void): () => void {
    this.#watchers.add(watcher);
    return () => this.#watchers.delete(watcher);
  }
  #changed(): void {
    for (const watcher of this.#watchers) watcher(this.subscribers);
  }
}
