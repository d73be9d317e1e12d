import { randomUUID } from 'node:crypto';
import type { RegisterWorker } from '../../contract/index.js';
import type { Clock } from '../../util/clock.js';
import type { EventBus } from '../events/bus.js';
import type { Db } from '../persistence/schema/database.js';
import { fetchWorkerSecretHash, insertWorker, touchWorkers, updateWorker } from '../persistence/workers.js';
import { hashToken, newToken, tokenMatches } from '../auth/secrets.js';

/** Credentials refused (wrong farm secret, unknown worker, wrong token): the API answers 401. */
export class AuthError extends Error {}

export interface WorkerAuthDeps {
  db: Db;
  bus: EventBus;
  farmSecret: string;
  /** Stamps heartbeats (worker_timeout is measured from them). */
  now: Clock;
}

/** Workers joining the farm and proving who they are on every request; each request is a heartbeat. */
export class WorkerAuth {
  /** id → token hash, so authenticating a request needs no query. */
  readonly #credentials = new Map<string, string>();
  /** Heartbeats are written in batches: ids seen since the last flush. */
  readonly #seen = new Set<string>();

  constructor(private readonly deps: WorkerAuthDeps) {}

  async register(body: RegisterWorker, address: string): Promise<{ id: string; token: string }> {
    if (!tokenMatches(body.secret, hashToken(this.deps.farmSecret))) throw new AuthError('wrong farm secret');
    const id = randomUUID();
    const token = newToken();
    await insertWorker(this.deps.db, {
      id,
      name: body.name,
      secretHash: hashToken(token),
      platform: body.platform,
      supportedTaskTypes: body.supportedTaskTypes,
      tags: body.tags ?? [],
    });
    await updateWorker(this.deps.db, id, { address });
    this.#credentials.set(id, hashToken(token));
    this.deps.bus.publish({ type: 'worker', workerId: id, status: 'offline', change: 'registered' });
    return { id, token };
  }

  /** Checks a worker's id and token; marks it seen. */
  async authenticate(id: string, token: string): Promise<void> {
    let hash = this.#credentials.get(id);
    if (!hash) {
      hash = await fetchWorkerSecretHash(this.deps.db, id);
      if (!hash) throw new AuthError('unknown worker');
      this.#credentials.set(id, hash);
    }
    if (!tokenMatches(token, hash)) throw new AuthError('wrong worker token');
    this.#seen.add(id);
  }

  /** Writes the heartbeats seen since the last flush (and `alsoSeen`: workers alive in a long poll). */
  async flushHeartbeats(alsoSeen: string[] = []): Promise<void> {
    for (const id of alsoSeen) this.#seen.add(id);
    const ids = [...this.#seen];
    this.#seen.clear();
    await touchWorkers(this.deps.db, ids, this.deps.now());
  }

  /** A deleted worker's credentials are no longer accepted. */
  forget(id: string): void {
    this.#credentials.delete(id);
    this.#seen.delete(id);
  }
}
