import type { Logger } from 'pino';
import type { Db } from '../persistence/schema/database.js';
import type { EventBus } from '../events/bus.js';
import type { Clock } from '../../util/clock.js';
import { HistoryService } from './history-service.js';
import { RunRecorder } from './run-recorder.js';
import { startFarmSampler } from './farm-sampler.js';

export { HistoryService } from './history-service.js';
export { findJobVideo } from './job-video.js';

/**
 * The dashboard's history: task runs recorded from the event bus and the farm's load sampled,
 * with the service that reads them. `stop` ends both and saves what waits.
 */
export function startDashboardHistory(deps: { db: Db; bus: Pick<EventBus, 'subscribe'>; log: Logger; now: Clock }): {
  history: HistoryService;
  stop: () => Promise<void>;
} {
  const recorder = new RunRecorder(deps);
  const stopSampler = startFarmSampler(deps);
  return {
    history: new HistoryService(deps),
    stop: async () => {
      stopSampler();
      await recorder.stop();
    },
  };
}
