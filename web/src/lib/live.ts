import { reactive } from 'vue';
import type { FarmEvent } from '../../../src/contract/index.js';
import { API } from './api.js';
import { authHeaders } from './auth.js';

/**
 * The manager's live event stream (GET /api/v1/events, Server-Sent Events), read with fetch so
 * that a token can travel as a header rather than in the URL (EventSource cannot send headers).
 * When the stream ends or the manager is unreachable it retries by itself, a little slower each
 * time up to MAX_RETRY_MS; `live.connected` says whether it is up and `live.awaySince` since when it
 * is not. Each (re)connect calls the resync listeners: whatever changed while away is read afresh.
 */
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 3000;

export const live = reactive({
  connected: false,
  /** ms since the epoch when the stream was lost; null while connected or before the first try. */
  awaySince: null as number | null,
  /** How many times the stream came back after being lost. */
  reconnects: 0,
});

type Listener = (event: FarmEvent) => void;
const listeners = new Set<Listener>();
const resyncs = new Set<() => void>();

/** Calls `listener` for every event; the answer unsubscribes. */
export function onFarmEvent(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Calls `listener` after every reconnect (not the first connect): read state afresh. */
export function onResync(listener: () => void): () => void {
  resyncs.add(listener);
  return () => resyncs.delete(listener);
}

/** Splits an event-stream text into events; the unfinished tail is kept for the next chunk. */
class EventStreamReader {
  #buffer = '';

  push(text: string): FarmEvent[] {
    this.#buffer += text.replace(/\r\n?/g, '\n');
    const events: FarmEvent[] = [];
    let end = this.#buffer.indexOf('\n\n');
    while (end !== -1) {
      const block = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 2);
      const data = block
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).replace(/^ /, ''))
        .join('\n');
      if (data) {
        try {
          events.push(JSON.parse(data) as FarmEvent);
        } catch {
          // Not one of the manager's events: skip it.
        }
      }
      end = this.#buffer.indexOf('\n\n');
    }
    return events;
  }
}

let started = false;

/** Starts following the stream (once per page). */
export function startLive(): void {
  if (started) return;
  started = true;
  void follow();
}

async function follow(): Promise<void> {
  let retryMs = FIRST_RETRY_MS;
  let everConnected = false;
  for (;;) {
    try {
      const response = await fetch(`${API}/events`, { headers: { ...authHeaders(), accept: 'text/event-stream' } });
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      live.connected = true;
      live.awaySince = null;
      retryMs = FIRST_RETRY_MS;
      if (everConnected) {
        live.reconnects++;
        for (const resync of resyncs) resync();
      }
      everConnected = true;
      await read(response.body);
    } catch {
      // The manager is away (restarting, or the network dropped): try again below.
    }
    if (live.connected || live.awaySince === null) live.awaySince = Date.now();
    live.connected = false;
    await new Promise((resolve) => setTimeout(resolve, retryMs));
    retryMs = Math.min(MAX_RETRY_MS, retryMs * 2);
  }
}

async function read(body: ReadableStream<Uint8Array>): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parser = new EventStreamReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    for (const event of parser.push(decoder.decode(value, { stream: true }))) {
      for (const listener of listeners) listener(event);
    }
  }
}
