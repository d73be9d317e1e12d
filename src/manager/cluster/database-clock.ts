/**
 * The farm's time: this host's clock corrected by its offset to the database server's clock.
 * Heartbeats and task updates are stamped by whichever manager receives them, and timeouts are
 * judged by the leader; reading one clock (the database's) keeps a manager whose host clock is
 * off from timing out another's workers. The offset is measured at start and every minute,
 * from the middle of a round trip; a manager whose host clock is off by more than a second says so.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../util/clock.js';
import type { Db } from '../persistence/schema/database.js';
import { databaseNow } from '../persistence/cluster.js';
import { MINUTE, SECOND } from '../../util/time.js';

export interface DatabaseClock {
  now: Clock;
  /** Database time minus this host's, in ms (as last measured). */
  offsetMs: () => number;
  stop: () => void;
}

/** Measures the offset once (a database that does not answer leaves it at 0) and keeps it current. */
export async function startDatabaseClock(db: Db, log: Logger, everyMs = MINUTE): Promise<DatabaseClock> {
  let offset = 0;
  let warned = false;
  const measure = async (): Promise<void> => {
    const before = Date.now();
    const at = (await databaseNow(db)).getTime();
    const after = Date.now();
    // A slow answer says little about the offset: keep the last one.
    if (after - before > SECOND) return;
    offset = at - (before + after) / 2;
    if (Math.abs(offset) > SECOND && !warned) {
      warned = true;
      log.warn(
        { offsetMs: Math.round(offset) },
        "this host's clock differs from the database's; the farm uses the database's",
      );
    }
  };
  await measure().catch(() => undefined);
  const timer = setInterval(() => void measure().catch(() => undefined), everyMs);
  timer.unref();
  return {
    now: () => new Date(Date.now() + offset),
    offsetMs: () => offset,
    stop: () => clearInterval(timer),
  };
}
