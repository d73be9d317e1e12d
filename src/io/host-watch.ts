/**
 * One background client's connection to one host's I/O priority listener. It knows whether that
 * host holds; anything that ends or silences the connection (the holder crashed, the host went
 * away, garbage) counts as "not held", and it reconnects with doubling delays. No listener means
 * not held.
 */
import { connect, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { HELD_PING_MS } from './listener.js';
import { LineReader, encodeMessage, parseLine } from './protocol.js';
import { SECOND } from '../util/time.js';

export interface IoTarget {
  host: string;
  port: number;
}

export interface HostWatchOptions {
  target: IoTarget;
  /** Named to the listener (`kiln io status` counts clients; the name helps whoever debugs). */
  program: string;
  /** Called when this host's held state changes. */
  onChange: (held: boolean) => void;
  /** First reconnect delay; doubles up to maxDelayMs. */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** A connection attempt that takes longer counts as no listener (for now). */
  connectTimeoutMs?: number;
}

/** While held, this long without a word from the listener ends the connection (a host that vanished). */
const HELD_SILENCE_MS = 3 * HELD_PING_MS;
/** After a `handover`, how long the hold stands while the next owner of the port is reached. */
const HANDOVER_GRACE_MS = 1 * SECOND;

export class HostWatch {
  readonly #options: Required<HostWatchOptions>;
  #socket: Socket | undefined;
  #held = false;
  #closed = false;
  #delay: number;
  #retry: NodeJS.Timeout | undefined;
  #silence: NodeJS.Timeout | undefined;
  #waiting = false;
  /** The listener announced a handover; set while its grace runs. */
  #handover: NodeJS.Timeout | undefined;
  #handoverAnnounced = false;
  /** Resolves once the first attempt has an answer: a state, a refusal, or a timeout. */
  readonly settled: Promise<void>;
  #settle!: () => void;

  constructor(options: HostWatchOptions) {
    this.#options = { minDelayMs: 50, maxDelayMs: 5 * SECOND, connectTimeoutMs: 1 * SECOND, ...options };
    this.#delay = this.#options.minDelayMs;
    this.settled = new Promise((resolve) => (this.#settle = resolve));
  }

  get held(): boolean {
    return this.#held;
  }

  get target(): IoTarget {
    return this.#options.target;
  }

  start(): void {
    this.#connect();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#retry);
    clearTimeout(this.#silence);
    clearTimeout(this.#handover);
    this.#handover = undefined;
    this.#socket?.destroy();
    this.#settle();
    this.#setHeld(false);
  }

  /** Tells the listener whether this client has work waiting on the hold (counted by `kiln io status`). */
  setWaiting(waiting: boolean): void {
    this.#waiting = waiting;
    if (this.#socket && !this.#socket.connecting && !this.#socket.destroyed)
      this.#socket.write(encodeMessage({ type: 'waiting', waiting }));
  }

  #connect(): void {
    if (this.#closed) return;
    const { host, port } = this.#options.target;
    const socket = connect({ host, port, noDelay: true });
    this.#socket = socket;
    socket.setKeepAlive(true, 5 * SECOND);
    // No connection, or a connection with no state line, within the limit: as if no listener were
    // there (a port taken by something that accepts and says nothing must not stop the farm).
    let stated = false;
    socket.setTimeout(this.#options.connectTimeoutMs, () => {
      if (socket.connecting || !stated) {
        this.#settle();
        socket.destroy();
      }
    });
    const reader = new LineReader((line) => {
      this.#receive(line);
      if (!stated && this.#socket === socket) {
        stated = true;
        socket.setTimeout(0);
      }
    });
    socket.once('connect', () => {
      socket.write(
        encodeMessage({
          type: 'hello',
          role: 'background',
          program: this.#options.program,
          pid: process.pid,
          host: hostname(),
        }),
      );
      if (this.#waiting) socket.write(encodeMessage({ type: 'waiting', waiting: true }));
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk);
      } catch {
        socket.destroy(); // a listener that speaks garbage: as if it were not there
      }
    });
    socket.on('error', () => undefined); // 'close' follows
    socket.on('close', () => this.#dropped(socket));
  }

  #receive(line: string): void {
    const message = parseLine(line);
    this.#heard();
    if (message.type === 'handover') this.#handoverAnnounced = true;
    if (message.type !== 'state') return;
    this.#endHandover();
    this.#delay = this.#options.minDelayMs; // a working session: the next reconnect starts quick again
    this.#setHeld(message.held === true);
    this.#settle();
  }

  /** Any word from the listener restarts the silence watch (armed only while held). */
  #heard(): void {
    clearTimeout(this.#silence);
    this.#silence = undefined;
    if (!this.#held) return;
    const socket = this.#socket;
    this.#silence = setTimeout(() => socket?.destroy(), HELD_SILENCE_MS);
    this.#silence.unref();
  }

  #dropped(socket: Socket): void {
    if (socket !== this.#socket) return;
    this.#socket = undefined;
    clearTimeout(this.#silence);
    this.#settle();
    if (this.#handoverAnnounced && this.#held && !this.#closed) {
      // A planned hand-over, not a crash: the hold stands for a moment while we reach the next owner.
      this.#handoverAnnounced = false;
      this.#delay = this.#options.minDelayMs;
      this.#handover = setTimeout(() => this.#endHandover(true), HANDOVER_GRACE_MS);
      this.#handover.unref();
    } else if (!this.#handover) this.#setHeld(false);
    if (this.#closed) return;
    const delay = this.#delay;
    this.#delay = Math.min(this.#delay * 2, this.#options.maxDelayMs);
    this.#retry = setTimeout(() => this.#connect(), delay);
    this.#retry.unref();
  }

  /** The grace after a hand-over ends: with a state from the next owner, or (expired) with none. */
  #endHandover(expired = false): void {
    clearTimeout(this.#handover);
    this.#handover = undefined;
    if (expired) this.#setHeld(false);
  }

  #setHeld(held: boolean): void {
    if (held === this.#held) {
      if (held) this.#heard();
      return;
    }
    this.#held = held;
    if (held) this.#heard();
    this.#options.onChange(held);
  }
}
