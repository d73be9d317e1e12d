/**
 * Several managers on one database: the farm link (wake-ups and events over LISTEN/NOTIFY),
 * the leader that runs the farm-wide duties, and the database's clock. A lone manager runs
 * the same code: it leads, and its link sends nothing while nobody else listens.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { DatabaseTarget } from '../../db/database.js';
import type { EventBus } from '../events/bus.js';
import type { Db } from '../persistence/schema/database.js';
import { startDatabaseClock, type DatabaseClock } from './database-clock.js';
import { FarmLink, type FarmLinkDeps } from './farm-link.js';
import { Leadership, type LeadershipStatus } from './leadership.js';

export interface FarmCluster {
  managerId: string;
  link: FarmLink;
  clock: DatabaseClock;
  /** Starts trying for the lead; `lead` starts the farm-wide duties and returns their stop. */
  startLeadership: (url: string, lead: () => () => void) => void;
  status: () => LeadershipStatus;
  close: () => Promise<void>;
}

export async function startFarmCluster(
  parts: { target: DatabaseTarget; db: Db; bus: EventBus; log: Logger } & Pick<
    FarmLinkDeps,
    'onWorkReady' | 'onRelease' | 'onWorkerDeleted'
  >,
): Promise<FarmCluster> {
  const managerId = randomBytes(4).toString('hex');
  const log = parts.log.child({ manager: managerId });
  const clock = await startDatabaseClock(parts.db, log);
  const link = new FarmLink({ ...parts, managerId, log });
  link.start();
  let leadership: Leadership | undefined;
  return {
    managerId,
    link,
    clock,
    startLeadership: (url, lead) => {
      leadership = new Leadership({ target: parts.target, db: parts.db, managerId, url, log, lead });
      leadership.start();
    },
    status: () => leadership?.status() ?? { id: managerId, leader: false },
    close: async () => {
      await leadership?.close();
      await link.close();
      clock.stop();
    },
  };
}
