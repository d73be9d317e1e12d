/**
 * Managers of one farm tell each other what changed, over PostgreSQL LISTEN/NOTIFY: the events
 * their event streams show, "work may be ready" (so a worker long-polling one manager gets a
 * task submitted through another at once) and "end this worker's long poll". Each manager
 * listens on a dedicated session (kept open by a SessionKeeper) and sends through its pool.
 *
 * Sending is batched: what happens while one NOTIFY is on its way goes in the next, so a busy
 * manager sends a few NOTIFYs per round trip instead of one per change. While no other manager
 * listens, nothing is sent (a lone manager pays nothing), and events go out only while another
 * manager has event streams open (a worker's deletion always goes: the others drop its credentials): a manager says so in a message and in its session's name
 * ("kiln-link ID streams"), which the others read back every few seconds (a manager that died
 * takes its session along).
 */
import type { Logger } from 'pino';
import type { DatabaseTarget } from '../../db/database.js';
import type { EventBus, FarmEvent } from '../events/bus.js';
import type { Db } from '../persistence/schema/database.js';
import { FARM_CHANNEL, listenForFarm, listSessionsNamed, notifyFarm, renameSession } from '../persistence/cluster.js';
import { encodeFarmMessage, FarmMessageAssembler, type FarmMessage } from './farm-message.js';
import { SessionKeeper } from './session-keeper.js';
import { SECOND } from '../../util/time.js';

/** The application_name prefix of every manager's listening session (how managers count each other). */
const LINK_SESSION = 'kiln-link ';
/** The suffix of the session name of a manager with event streams open. */
const STREAMING = ' streams';

export interface FarmLinkDeps {
  target: DatabaseTarget;
  db: Db;
  bus: EventBus;
  /** This manager's id in the farm (messages it sent itself are ignored). */
  managerId: string;
  log: Logger;
  /** Another manager says work may be ready (or the link reopened and may have missed it). */
  onWorkReady: () => void;
  /** Another manager asks to end this worker's long poll. */
  onRelease: (workerId: string) => void;
  /** A worker was deleted through another manager. */
  onWorkerDeleted?: (workerId: string) => void;
  retryMs?: number;
  /** How often the link counts the other managers' sessions. */
  peerCheckMs?: number;
}

export class FarmLink {
  readonly #session: SessionKeeper;
  readonly #assembler = new FarmMessageAssembler();
  #pending: FarmMessage = { events: [], work: false, release: [] };
  #seq = 0;
  /** Messages sent and received (for the benchmarks). */
  readonly stats = { sent: 0, received: 0 };
  #sending = false;
  #scheduled = false;
  /** Whether another manager listens (else nothing is sent). */
  #peers = false;
  /** Managers with event streams open (events are sent only while there are some). */
  readonly #streamingPeers = new Set<string>();
  /** Whether this manager has event streams open. */
  #streaming = false;
  readonly #peerCheck: NodeJS.Timeout;
  readonly #unsubscribe: Array<() => void>;

  constructor(private readonly deps: FarmLinkDeps) {
    this.#session = new SessionKeeper({
      target: deps.target,
      name: `${LINK_SESSION}${deps.managerId}`,
      log: deps.log,
      retryMs: deps.retryMs ?? SECOND,
      pingMs: 5 * SECOND,
      onOpen: async (client) => {
        client.on('notification', (note) => {
          if (note.channel === FARM_CHANNEL && note.payload) this.#received(note.payload);
        });
        await listenForFarm(client);
        if (this.#streaming) await renameSession(client, this.#sessionName());
        // Say hello (others start sending), and serve anyone waiting: wake-ups may have been missed.
        this.#send({ events: [], work: false, release: [], hello: true, streams: this.#streaming });
        void this.#checkPeers();
        deps.onWorkReady();
      },
      onLost: () => undefined,
    });
    this.#unsubscribe = [
      deps.bus.tap((event, origin) => {
        if (origin !== 'here') return;
        // A deletion goes to every manager, streams or not: each must stop accepting the worker's token.
        const revokes = event.type === 'worker' && event.status === 'deleted' && this.#peers;
        if (this.#streamingPeers.size === 0 && !revokes) return;
        this.#pending.events.push(event);
        this.#schedule();
      }),
      deps.bus.watchSubscribers((subscribers) => this.#streamsChanged(subscribers > 0)),
    ];
    this.#peerCheck = setInterval(() => void this.#checkPeers(), deps.peerCheckMs ?? 2 * SECOND);
    this.#peerCheck.unref();
  }

  start(): void {
    this.#session.start();
  }

  /** Whether the link listens now. */
  get listening(): boolean {
    return this.#session.client !== undefined;
  }

  /** Whether another manager listens (this one then tells it what changes here). */
  get peersListening(): boolean {
    return this.#peers;
  }

  /** Whether another manager has event streams open (this one then sends it its events). */
  get peersStreaming(): boolean {
    return this.#streamingPeers.size > 0;
  }

  #sessionName(): string {
    return `${LINK_SESSION}${this.deps.managerId}${this.#streaming ? STREAMING : ''}`;
  }

  /** The first event stream opened, or the last one closed: the others start or stop sending events. */
  #streamsChanged(streaming: boolean): void {
    if (streaming === this.#streaming) return;
    this.#streaming = streaming;
    const client = this.#session.client;
    const renamed = client ? renameSession(client, this.#sessionName()).catch(() => undefined) : Promise.resolve();
    void renamed.then(() => this.#send({ events: [], work: false, release: [], streams: streaming }));
  }

  /** Work may be ready here: the other managers serve their waiting workers too. */
  workReady(): void {
    if (!this.#peers) return;
    this.#pending.work = true;
    this.#schedule();
  }

  /** A worker's long poll should end, wherever it waits. */
  release(workerId: string): void {
    if (!this.#peers) return;
    this.#pending.release.push(workerId);
    this.#schedule();
  }

  /**
   * Reads the other managers' link sessions: whether any listens, which stream events. A manager
   * whose session is gone no longer streams; one that said "streams" in a message since counts
   * until it says otherwise (this read may have started before its session was renamed).
   */
  async #checkPeers(): Promise<void> {
    let names: string[];
    try {
      names = await listSessionsNamed(this.deps.db, LINK_SESSION);
    } catch {
      return; // The database is away: keep the last answer.
    }
    const others = names
      .map((name) => name.slice(LINK_SESSION.length).split(' '))
      .filter(([id]) => id !== this.deps.managerId);
    this.#peers = others.length > 0;
    const present = new Set(others.map(([id]) => id));
    for (const id of this.#streamingPeers) if (!present.has(id)) this.#streamingPeers.delete(id);
    for (const [id, flag] of others) if (id && flag === STREAMING.trim()) this.#streamingPeers.add(id);
  }

  #received(payload: string): void {
    const complete = this.#assembler.add(payload);
    if (!complete || complete.sender === this.deps.managerId) return;
    this.#peers = true;
    this.stats.received += 1;
    const { message, sender } = complete;
    if (message.streams === true) this.#streamingPeers.add(sender);
    if (message.streams === false) this.#streamingPeers.delete(sender);
    for (const event of message.events) {
      this.deps.bus.publish(event as FarmEvent, 'elsewhere');
      if (event.type === 'worker' && event.status === 'deleted') this.deps.onWorkerDeleted?.(event.workerId);
    }
    for (const workerId of message.release) this.deps.onRelease(workerId);
    if (message.work) this.deps.onWorkReady();
  }

  #schedule(): void {
    if (this.#sending || this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      const message = this.#pending;
      this.#pending = { events: [], work: false, release: [] };
      if (message.events.length || message.work || message.release.length) this.#send(message);
    });
  }

  #send(message: FarmMessage): void {
    this.#sending = true;
    const payloads = encodeFarmMessage(this.deps.managerId, this.#seq++, message);
    this.stats.sent += 1;
    notifyFarm(this.deps.db, payloads)
      .catch((error: unknown) =>
        this.deps.log.debug({ reason: (error as Error).message }, 'could not tell the other managers'),
      )
      .finally(() => {
        this.#sending = false;
        const pending = this.#pending;
        if (pending.events.length || pending.work || pending.release.length) this.#schedule();
      });
  }

  async close(): Promise<void> {
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    clearInterval(this.#peerCheck);
    await this.#session.close();
  }
}
