/**
 * The foreground side's listener: owns the I/O priority port, keeps the set of holds (its own
 * program's and those of programs that joined it), and tells every client the state when it
 * connects and at each change. Overlapping holds count as one real-time section. A client that
 * sends garbage is told why and loses its connection; nobody else notices. A foreground client
 * that goes away takes its holds with it, so a crashed joined program never leaves the farm held.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { hostname } from 'node:os';
import {
  LineReader,
  ProtocolError,
  encodeMessage,
  parseLine,
  pidField,
  textField,
  type ClientRole,
  type HolderInfo,
  type StatusMessage,
} from './protocol.js';
import { SECOND } from '../util/time.js';

/** While held, a ping this often tells clients the holder is still alive (they drop a silent one). */
export const HELD_PING_MS = 1 * SECOND;
/** A client whose unread output passes this is not reading: it is dropped rather than buffered for. */
const MAX_UNREAD_BYTES = 1024 * 1024;
/** Holds one connection may have at once. */
const MAX_HOLDS_PER_CLIENT = 1000;

interface Client {
  socket: Socket;
  role: ClientRole;
  waiting: boolean;
  /** Hold ids this connection owns, to their listener-wide keys. */
  holds: Map<string, string>;
}

export interface ListenerIdentity {
  program: string;
  pid?: number;
  host?: string;
}

export class IoPriorityListener {
  readonly #server: Server;
  readonly #clients = new Set<Client>();
  readonly #holds = new Map<string, HolderInfo>();
  readonly #identity: { program: string; pid: number; host: string; since: string };
  #since: string | null = null;
  #ping: NodeJS.Timeout | undefined;
  #nextId = 0;

  constructor(identity: ListenerIdentity) {
    this.#identity = {
      program: identity.program,
      pid: identity.pid ?? process.pid,
      host: identity.host ?? hostname(),
      since: new Date().toISOString(),
    };
    this.#server = createServer((socket) => this.#accept(socket));
  }

  /** Listens on `port` at `host` (every address by default); rejects with the socket error (EADDRINUSE...). */
  listen(port: number, host?: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      this.#server.once('error', onError);
      this.#server.listen({ port, host, exclusive: true }, () => {
        this.#server.off('error', onError);
        resolve();
      });
    });
  }

  get port(): number {
    const address = this.#server.address();
    return address && typeof address === 'object' ? address.port : 0;
  }

  get held(): boolean {
    return this.#holds.size > 0;
  }

  /** Starts a hold of this listener's own program; returns its id for release(). */
  hold(info: Omit<HolderInfo, 'since'>): string {
    const id = `local-${++this.#nextId}`;
    this.#addHold(id, info);
    return id;
  }

  release(id: string): void {
    if (this.#holds.delete(id)) this.#changed();
  }

  status(): Omit<StatusMessage, 'v'> {
    const count = (role: ClientRole) => [...this.#clients].filter((client) => client.role === role).length;
    return {
      type: 'status',
      held: this.held,
      since: this.#since,
      holders: [...this.#holds.values()],
      clients: {
        background: count('background'),
        waiting: [...this.#clients].filter((client) => client.role === 'background' && client.waiting).length,
        foreground: count('foreground'),
        observers: count('observer'),
      },
      listener: this.#identity,
    };
  }

  /**
   * Stops listening and closes every connection: clients see the drop and resume. While joined
   * programs still hold, clients are told `handover` first: one of those programs takes the port
   * over at once, and clients stay paused for a moment while they reconnect to it.
   */
  close(): Promise<void> {
    clearInterval(this.#ping);
    this.#ping = undefined;
    const joinedHold = [...this.#clients].some((client) => client.holds.size > 0);
    const last = joinedHold ? encodeMessage({ type: 'handover' }) : undefined;
    for (const client of this.#clients) {
      if (last && !client.socket.destroyed) client.socket.end(last);
      else client.socket.destroy();
    }
    const clients = [...this.#clients];
    this.#clients.clear();
    // A client that does not close its side in time is cut off.
    const cutOff = setTimeout(() => {
      for (const client of clients) client.socket.destroy();
    }, 200);
    return new Promise((resolve) =>
      this.#server.close(() => {
        clearTimeout(cutOff);
        resolve();
      }),
    );
  }

  #addHold(id: string, info: Omit<HolderInfo, 'since'>): void {
    this.#holds.set(id, { ...info, since: new Date().toISOString() });
    this.#changed();
  }

  #stateLine(): string {
    return encodeMessage({ type: 'state', held: this.held, since: this.#since, holders: [...this.#holds.values()] });
  }

  /** Every client learns the new state at once; pings run while held. */
  #changed(): void {
    if (this.held && this.#since === null) this.#since = new Date().toISOString();
    if (!this.held) this.#since = null;
    const line = this.#stateLine();
    for (const client of this.#clients) this.#send(client, line);
    if (this.held && !this.#ping) {
      const ping = encodeMessage({ type: 'ping' });
      this.#ping = setInterval(() => {
        for (const client of this.#clients) this.#send(client, ping);
      }, HELD_PING_MS);
      this.#ping.unref();
    } else if (!this.held && this.#ping) {
      clearInterval(this.#ping);
      this.#ping = undefined;
    }
  }

  #send(client: Client, line: string): void {
    if (client.socket.destroyed) return;
    if (client.socket.writableLength > MAX_UNREAD_BYTES) {
      this.#drop(client);
      return;
    }
    client.socket.write(line);
  }

  #accept(socket: Socket): void {
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 5 * SECOND);
    const client: Client = { socket, role: 'background', waiting: false, holds: new Map() };
    this.#clients.add(client);
    const reader = new LineReader((line) => this.#receive(client, line));
    socket.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk);
      } catch (error) {
        const message = error instanceof ProtocolError ? error.message : String(error);
        if (!socket.destroyed) socket.end(encodeMessage({ type: 'error', message }));
        this.#drop(client);
      }
    });
    socket.on('error', () => this.#drop(client));
    socket.on('close', () => this.#drop(client));
    socket.write(this.#stateLine());
  }

  /** One message from a client; a ProtocolError closes its connection. */
  #receive(client: Client, line: string): void {
    // Dropped while the rest of its chunk is read: a hold taken now would outlive the connection.
    if (!this.#clients.has(client)) return;
    const message = parseLine(line);
    switch (message.type) {
      case 'hello': {
        const role = message.role;
        if (role !== 'background' && role !== 'foreground' && role !== 'observer')
          throw new ProtocolError('hello: "role" must be background, foreground or observer');
        client.role = role;
        return;
      }
      case 'hold': {
        const id = textField(message.id);
        if (!id) throw new ProtocolError('hold: "id" must be a string');
        if (client.holds.size >= MAX_HOLDS_PER_CLIENT) throw new ProtocolError('too many holds on one connection');
        const key = `remote-${++this.#nextId}`;
        const earlier = client.holds.get(id);
        if (earlier) this.#holds.delete(earlier);
        client.holds.set(id, key);
        client.role = 'foreground';
        this.#addHold(key, {
          program: textField(message.program) ?? 'unknown program',
          pid: pidField(message.pid),
          host: textField(message.host),
        });
        this.#send(client, encodeMessage({ type: 'holding', id }));
        return;
      }
      case 'release': {
        const id = textField(message.id) ?? '';
        const key = client.holds.get(id);
        if (key) {
          client.holds.delete(id);
          this.release(key);
        }
        return;
      }
      case 'waiting':
        client.waiting = message.waiting === true;
        return;
      case 'status':
        this.#send(client, encodeMessage(this.status()));
        return;
      default:
      // A type a later version added: ignored.
    }
  }

  #drop(client: Client): void {
    if (!this.#clients.delete(client)) return;
    client.socket.destroy();
    let released = false;
    for (const key of client.holds.values()) released = this.#holds.delete(key) || released;
    if (released) this.#changed();
  }
}
