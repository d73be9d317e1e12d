import type { RetryClock } from '../worker/backoff.js';
import { pause } from '../util/time.js';

/**
 * A RetryClock for tests: records every wait the code under test asks for and waits at most
 * `capMs` of it, so a test waits for "three retries" rather than for a fixed time.
 */
export class RecordingClock implements RetryClock {
  readonly waits: number[] = [];

  constructor(readonly capMs = 20) {}

  pause(ms: number, signal?: AbortSignal): Promise<boolean> {
    this.waits.push(ms);
    return pause(Math.min(ms, this.capMs), signal);
  }
}
