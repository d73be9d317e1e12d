/**
 * A dedicated database connection that is kept open: connected at start, pinged now and then,
 * and opened again (after `retryMs`) whenever it is lost. The LISTEN of the farm link and the
 * leader's advisory lock each live on one, because both belong to a session, not to a pool.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import { connectSession, type DatabaseTarget } from '../../db/database.js';
import { pingSession } from '../persistence/cluster.js';

export interface SessionKeeperOptions {
  target: DatabaseTarget;
  /** The session's application_name (other managers read it). */
  name: string;
  log: Logger;
  /** Between connection attempts. */
  retryMs: number;
  /** Between pings; a ping that fails or takes longer than this loses the session. */
  pingMs: number;
  /** Runs on every new session before it counts as open; a failure loses it. */
  onOpen: (client: pg.Client) => Promise<void>;
  /** The session is gone (its locks and LISTENs with it). */
  onLost: () => void;
}

export class SessionKeeper {
  #client: pg.Client | undefined;
  /** Counts sessions, so a late error of an old one is ignored. */
  #generation = 0;
  #closed = false;
  #pinging = false;
  #warned = false;
  #retry: NodeJS.Timeout | undefined;
  readonly #ping: NodeJS.Timeout;

  constructor(private readonly options: SessionKeeperOptions) {
    this.#ping = setInterval(() => void this.#pingOnce(), options.pingMs);
    this.#ping.unref();
  }

  /** The open session, if any. */
  get client(): pg.Client | undefined {
    return this.#client;
  }

  start(): void {
    void this.#open();
  }

  async #open(): Promise<void> {
    if (this.#closed) return;
    const generation = ++this.#generation;
    let client: pg.Client | undefined;
    try {
      client = await connectSession(this.options.target, this.options.name, (error) => this.#lost(generation, error));
      if (this.#closed) {
        await client.end().catch(() => undefined);
        return;
      }
      this.#client = client;
      await this.options.onOpen(client);
      if (this.#warned) this.options.log.info({ session: this.options.name }, 'database session open again');
      this.#warned = false;
    } catch (error) {
      if (generation !== this.#generation) return;
      if (this.#client === client && client) {
        this.#lost(generation, error as Error);
        return;
      }
      if (!this.#warned)
        this.options.log.warn(
          { session: this.options.name, reason: (error as Error).message },
          'database session failed',
        );
      this.#warned = true;
      this.#scheduleOpen();
    }
  }

  #scheduleOpen(): void {
    if (this.#closed) return;
    clearTimeout(this.#retry);
    this.#retry = setTimeout(() => void this.#open(), this.options.retryMs);
    this.#retry.unref();
  }

  #lost(generation: number, error: Error): void {
    if (generation !== this.#generation || this.#closed || !this.#client) return;
    const client = this.#client;
    this.#client = undefined;
    this.#generation += 1;
    if (!this.#warned)
      this.options.log.warn({ session: this.options.name, reason: error.message }, 'database session lost');
    this.#warned = true;
    this.options.onLost();
    void client.end().catch(() => undefined);
    this.#scheduleOpen();
  }

  async #pingOnce(): Promise<void> {
    const client = this.#client;
    if (!client || this.#pinging) return;
    this.#pinging = true;
    const generation = this.#generation;
    let timer: NodeJS.Timeout | undefined;
    try {
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('no answer to a ping')), this.options.pingMs * 2);
      });
      await Promise.race([pingSession(client), late]);
    } catch (error) {
      this.#lost(generation, error as Error);
    } finally {
      clearTimeout(timer);
      this.#pinging = false;
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#ping);
    clearTimeout(this.#retry);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
  }
}
