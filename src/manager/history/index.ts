import type { Logger } from 'pino';
import type { Db } from '../persistence/schema/database.js';
import type { EventBus } from '../events/bus.js';
import type { Clock } from '../../util/clock.js';
import { HistoryService } from './history-service.js';
import { RunRecorder } from './run-recorder.js';

export { HistoryService } from './history-service.js';
export { findJobVideo } from './job-video.js';
export { startFarmSampler } from './farm-sampler.js';

/**
 * The dashboard's history: the task runs made through this manager, recorded from the event bus,
 * with the service that reads them (the farm's load is sampled by the leader: `startFarmSampler`).
 * `stop` saves what waits.
 */
export function startDashboardHistory(deps: { db: Db; bus: Pick<EventBus, 'tap'>; log: Logger; now: Clock }): {
  history: HistoryService;
  stop: () => Promise<void>;
} {
  const recorder = new RunRecorder(deps);
  return {
    history: new HistoryService(deps),
    stop: () => recorder.stop(),
  };
}
