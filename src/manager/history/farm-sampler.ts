import type { Logger } from 'pino';
import type { Db } from '../persistence/schema/database.js';
import { insertSample, measureLoad, pruneHistory } from '../persistence/history.js';
import type { Clock } from '../../util/clock.js';
import { DAY, SECOND } from '../../util/time.js';

/** How often the farm's load is sampled for the dashboard's plots, and how long samples are kept. */
const SAMPLE_INTERVAL = 10 * SECOND;
const KEEP_SAMPLES = 7 * DAY;

/**
 * Samples the farm's load (busy and awake workers, queued and active tasks) every
 * `intervalMs`, starting at once; the answer stops it. Failures are logged, never fatal.
 */
export function startFarmSampler(deps: { db: Db; log: Logger; now: Clock }, intervalMs = SAMPLE_INTERVAL): () => void {
  let samples = 0;
  const sample = async (): Promise<void> => {
    try {
      const at = deps.now();
      await insertSample(deps.db, at, await measureLoad(deps.db));
      if (samples++ % 360 === 0) await pruneHistory(deps.db, new Date(at.getTime() - KEEP_SAMPLES));
    } catch (error) {
      deps.log.warn({ err: error }, 'farm load sample not saved');
    }
  };
  void sample();
  const timer = setInterval(() => void sample(), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
