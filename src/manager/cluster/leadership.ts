/**
 * One manager of the farm leads: it runs the duties that must run once farm-wide (timeouts,
 * sleep schedules, Shaman garbage collection). The leader is whoever holds a PostgreSQL session
 * advisory lock on a dedicated connection. The lock goes with the session, so a leader that
 * dies (or loses its connection) gives it up at once; the others try for it every `retryMs`.
 * A leader whose session stops answering a ping stops its duties before another can take over
 * (the ping's limit is below the others' retry interval plus PostgreSQL noticing the loss).
 */
import type { Logger } from 'pino';
import type { DatabaseTarget } from '../../db/database.js';
import type { Db } from '../persistence/schema/database.js';
import { leaderSessionName, tryLeaderLock } from '../persistence/cluster.js';
import { SessionKeeper } from './session-keeper.js';
import { SECOND } from '../../util/time.js';

/** The leader's session is named "kiln-manager ID URL" (what status reports read back). */
const LEADER_SESSION = 'kiln-manager';

export interface LeadershipStatus {
  /** This manager's id. */
  id: string;
  /** Whether this manager leads now. */
  leader: boolean;
  /** The leading manager's id and URL, when one leads. */
  leaderId?: string;
  leaderUrl?: string;
}

export interface LeadershipDeps {
  target: DatabaseTarget;
  db: Db;
  managerId: string;
  /** This manager's URL (in the leader's session name, so the others can say who leads). */
  url: string;
  log: Logger;
  /** Starts the duties; returns their stop. Called on gaining the lead, the stop on losing it. */
  lead: () => () => void;
  retryMs?: number;
  pingMs?: number;
}

export class Leadership {
  readonly #session: SessionKeeper;
  #stopDuties: (() => void) | undefined;
  #leader: { id: string; url?: string } | undefined;
  #trying = false;
  readonly #retry: NodeJS.Timeout;

  constructor(private readonly deps: LeadershipDeps) {
    this.#session = new SessionKeeper({
      target: deps.target,
      name: `${LEADER_SESSION} ${deps.managerId} ${deps.url}`,
      log: deps.log,
      retryMs: deps.retryMs ?? 1.5 * SECOND,
      pingMs: deps.pingMs ?? SECOND,
      onOpen: () => this.#tryLead(),
      onLost: () => this.#stepDown('its database session was lost'),
    });
    this.#retry = setInterval(() => void this.#tryLead().catch(() => undefined), deps.retryMs ?? 1.5 * SECOND);
    this.#retry.unref();
  }

  start(): void {
    this.#session.start();
  }

  get leading(): boolean {
    return this.#stopDuties !== undefined;
  }

  status(): LeadershipStatus {
    const leader = this.leading ? { id: this.deps.managerId, url: this.deps.url } : this.#leader;
    return {
      id: this.deps.managerId,
      leader: this.leading,
      ...(leader ? { leaderId: leader.id } : {}),
      ...(leader?.url ? { leaderUrl: leader.url } : {}),
    };
  }

  async #tryLead(): Promise<void> {
    const client = this.#session.client;
    if (this.leading || this.#trying || !client) return;
    this.#trying = true;
    try {
      if (await tryLeaderLock(client)) {
        // The session may have been lost while the answer travelled: then the lock went with it.
        if (this.#session.client !== client) return;
        this.#leader = { id: this.deps.managerId, url: this.deps.url };
        this.deps.log.info({ url: this.deps.url }, 'this manager now leads the farm');
        this.#stopDuties = this.deps.lead();
      } else {
        await this.#readLeader();
      }
    } finally {
      this.#trying = false;
    }
  }

  async #readLeader(): Promise<void> {
    const name = await leaderSessionName(this.deps.db).catch(() => undefined);
    const [prefix, id, url] = (name ?? '').split(' ');
    const leader = prefix === LEADER_SESSION && id ? { id, ...(url ? { url } : {}) } : undefined;
    if (leader?.id !== this.#leader?.id && leader)
      this.deps.log.info({ leader: leader.id, url: leader.url }, 'another manager leads the farm');
    this.#leader = leader;
  }

  #stepDown(reason: string): void {
    const stop = this.#stopDuties;
    if (!stop) return;
    this.#stopDuties = undefined;
    this.#leader = undefined;
    stop();
    this.deps.log.warn({ reason }, 'this manager no longer leads the farm');
  }

  async close(): Promise<void> {
    clearInterval(this.#retry);
    const stop = this.#stopDuties;
    this.#stopDuties = undefined;
    stop?.();
    await this.#session.close();
  }
}
