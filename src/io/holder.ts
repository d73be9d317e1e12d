/**
 * The foreground side as a library: `openIoPriority()` then `await io.hold()` around real-time
 * I/O. Several foreground programs on one host share one listener: the first owns the port, later
 * ones join it over a connection and hold through it. When the owner exits, a joined program takes
 * the port over (or joins whoever did) and holds again what it held, so holds outlive the owner.
 */
import { connect, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { IoPriorityListener } from './listener.js';
import { LineReader, ProtocolError, encodeMessage, parseLine } from './protocol.js';
import { UserError, isErrnoException } from '../util/errors.js';
import { SECOND } from '../util/time.js';

export interface IoPriorityOptions {
  port: number;
  /** Address to listen on when this program owns the port; default every address. */
  listen?: string | undefined;
  /** This program, as clients and `kiln io status` see it. */
  program: string;
}

export interface IoHold {
  release(): Promise<void>;
}

/** A joined program that hears nothing from the owner for this long gives up on it. */
const OWNER_ANSWER_MS = 2 * SECOND;
const OPEN_ATTEMPTS = 20;

interface Session {
  role: 'owner' | 'joined';
  hold(id: string): Promise<void>;
  release(id: string): void;
  close(): Promise<void>;
}

export class IoPriority {
  readonly #options: IoPriorityOptions;
  readonly #holds = new Set<string>();
  #session: Session | undefined;
  #opening: Promise<Session> | undefined;
  #nextId = 0;
  #closed = false;

  constructor(options: IoPriorityOptions) {
    this.#options = options;
  }

  /** 'owner' when this program listens on the port, 'joined' when it holds through the owner. */
  get role(): 'owner' | 'joined' | undefined {
    return this.#session?.role;
  }

  /** Owns the port or joins its owner; throws a UserError when the port is taken by something else. */
  async open(): Promise<void> {
    await this.#ensureSession();
  }

  /** Starts a real-time section; resolves once the listener has told its clients. */
  async hold(): Promise<IoHold> {
    const id = `h${++this.#nextId}`;
    this.#holds.add(id);
    try {
      const session = await this.#ensureSession();
      await session.hold(id);
    } catch (error) {
      this.#holds.delete(id);
      throw error;
    }
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        this.#holds.delete(id);
        this.#session?.release(id);
      },
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#holds.clear();
    await this.#session?.close();
    this.#session = undefined;
  }

  #ensureSession(): Promise<Session> {
    if (this.#session) return Promise.resolve(this.#session);
    this.#opening ??= this.#openSession().finally(() => (this.#opening = undefined));
    return this.#opening;
  }

  async #openSession(): Promise<Session> {
    const { port, listen } = this.#options;
    let lastError: unknown;
    for (let attempt = 0; attempt < OPEN_ATTEMPTS; attempt++) {
      try {
        const session = await this.#own();
        this.#session = session;
        return session;
      } catch (error) {
        if (!isErrnoException(error, 'EADDRINUSE')) throw error;
      }
      try {
        const session = await joinOwner(port, localAddress(listen), this.#options.program, (gone) =>
          this.#ownerGone(gone),
        );
        this.#session = session;
        return session;
      } catch (error) {
        lastError = error;
        if (error instanceof ProtocolError) break;
        // The owner went away between our two tries (or is just starting): try again.
        await new Promise((resolve) => setTimeout(resolve, 20 + attempt * 20));
      }
    }
    throw new UserError(
      `I/O priority: port ${port} is in use by something that is not a Kiln I/O priority listener (${(lastError as Error)?.message})`,
      { code: 'io_port_taken' },
    );
  }

  async #own(): Promise<Session> {
    const { port, listen, program } = this.#options;
    const listener = new IoPriorityListener({ program });
    const local = new Map<string, string>();
    const me = { program, pid: process.pid, host: hostname() };
    // Holds taken over from an owner that left are in place before the first client connects.
    for (const id of this.#holds) local.set(id, listener.hold(me));
    try {
      await listenOnBest(listener, port, listen);
    } catch (error) {
      await listener.close().catch(() => undefined);
      throw error;
    }
    return {
      role: 'owner',
      hold: async (id) => {
        if (!local.has(id)) local.set(id, listener.hold(me));
      },
      release: (id) => {
        const key = local.get(id);
        local.delete(id);
        if (key) listener.release(key);
      },
      close: () => listener.close(),
    };
  }

  /** The owner we joined is gone: take over or join the new owner, and hold again what we held. */
  #ownerGone(session: Session): void {
    if (this.#closed || this.#session !== session) return;
    this.#session = undefined;
    if (this.#holds.size === 0) return;
    void this.#ensureSession().then(
      async (next) => {
        for (const id of this.#holds) await next.hold(id);
      },
      () => undefined,
    );
  }
}

/** Listens on every address (IPv6 and IPv4) by default, or IPv4 alone where IPv6 is missing. */
async function listenOnBest(listener: IoPriorityListener, port: number, listen: string | undefined): Promise<void> {
  if (listen) return listener.listen(port, listen);
  try {
    await listener.listen(port, '::');
  } catch (error) {
    if (!isErrnoException(error, 'EAFNOSUPPORT') && !isErrnoException(error, 'EADDRNOTAVAIL')) throw error;
    await listener.listen(port, '0.0.0.0');
  }
}

/** Where this host's listener answers locally. */
export function localAddress(listen: string | undefined): string {
  return !listen || listen === '::' || listen === '0.0.0.0' ? '127.0.0.1' : listen;
}

/** Joins the owner of the port: hold/release messages over one connection, each hold acknowledged. */
function joinOwner(port: number, host: string, program: string, onGone: (session: Session) => void): Promise<Session> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ host, port, noDelay: true });
    const pending = new Map<string, () => void>();
    let session: Session | undefined;
    const timer = setTimeout(() => socket.destroy(new ProtocolError('no answer from the port owner')), OWNER_ANSWER_MS);
    const reader = new LineReader((line) => {
      const message = parseLine(line);
      if (message.type === 'state' && !session) {
        clearTimeout(timer);
        session = makeJoinedSession(socket, program, pending);
        resolve(session);
      } else if (message.type === 'holding' && typeof message.id === 'string') {
        pending.get(message.id)?.();
        pending.delete(message.id);
      }
    });
    socket.on('connect', () =>
      socket.write(encodeMessage({ type: 'hello', role: 'foreground', program, pid: process.pid, host: hostname() })),
    );
    socket.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk);
      } catch (error) {
        socket.destroy(error instanceof ProtocolError ? error : new ProtocolError(String(error)));
      }
    });
    socket.on('error', (error) => {
      if (!session) reject(error);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      if (!session) reject(new Error('the port owner closed the connection'));
      for (const done of pending.values()) done();
      pending.clear();
      if (session) onGone(session);
    });
  });
}

function makeJoinedSession(socket: Socket, program: string, pending: Map<string, () => void>): Session {
  return {
    role: 'joined',
    hold: (id) =>
      new Promise<void>((resolve) => {
        if (socket.destroyed) return resolve();
        pending.set(id, resolve);
        socket.write(encodeMessage({ type: 'hold', id, program, pid: process.pid, host: hostname() }));
      }),
    release: (id) => {
      if (!socket.destroyed) socket.write(encodeMessage({ type: 'release', id }));
    },
    close: async () => {
      socket.destroy();
    },
  };
}
