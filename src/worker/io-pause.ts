/**
 * I/O priority inside one task: the worker's gate, seen by the task's commands. Copies wait at it
 * before each chunk; programs the task runs (ffmpeg, Blender...) are stopped with SIGSTOP to their
 * process group while a hold is on and continued with SIGCONT when it ends. While anything of the
 * task waits, its activity says "paused for I/O priority"; each pause and the total go to its log.
 */
import { OPEN_GATE, type IoGate } from '../io/index.js';
import { SECOND } from '../util/time.js';

export const PAUSED_ACTIVITY = 'paused for I/O priority';
/** While paused, the activity is refreshed this often: a long hold must not look like a stuck task (task_timeout). */
const PAUSED_REFRESH_MS = 30 * SECOND;

export interface TaskIoReport {
  activity(text: string): void;
  log(line: string): void;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

export class TaskIoPause implements IoGate {
  readonly #gate: IoGate;
  readonly #report: TaskIoReport;
  /** Waits and stopped programs right now; a pause episode lasts while this is above 0. */
  #active = 0;
  #episodeStart = 0;
  #episodes = 0;
  #pausedMs = 0;
  #lastActivity: string | undefined;
  #refresh: NodeJS.Timeout | undefined;

  constructor(gate: IoGate | undefined, report: TaskIoReport) {
    this.#gate = gate ?? OPEN_GATE;
    this.#report = report;
  }

  get paused(): boolean {
    return this.#gate.paused;
  }

  onChange(listener: (paused: boolean) => void): () => void {
    return this.#gate.onChange(listener);
  }

  async ready(signal?: AbortSignal): Promise<number> {
    if (!this.#gate.paused) return this.#gate.ready(signal);
    this.#begin();
    try {
      return await this.#gate.ready(signal);
    } finally {
      this.#end();
    }
  }

  /** The activity text the command last set, put back when a pause ends. */
  noteActivity(text: string): void {
    this.#lastActivity = text;
  }

  /**
   * Stops the process group `pgid` while the gate is paused and continues it when it opens, from
   * now until the returned function is called (which continues it if stopped).
   */
  pauseProcessGroup(pgid: number): () => void {
    let stopped = false;
    const apply = (paused: boolean): void => {
      if (paused === stopped) return;
      if (paused) {
        if (!signalGroup(pgid, 'SIGSTOP')) return; // gone already: nothing to pause
        stopped = true;
        this.#begin();
      } else {
        signalGroup(pgid, 'SIGCONT');
        stopped = false;
        this.#end();
      }
    };
    const unsubscribe = this.#gate.onChange(apply);
    if (this.#gate.paused) apply(true);
    return () => {
      unsubscribe();
      apply(false);
    };
  }

  /** One line for the task's log when anything was paused. */
  summary(): string | undefined {
    if (this.#episodes === 0) return undefined;
    const times = this.#episodes === 1 ? 'once' : `${this.#episodes} times`;
    return `paused for I/O priority ${times}, ${seconds(this.#pausedMs)} in all`;
  }

  #begin(): void {
    if (this.#active++ > 0) return;
    this.#episodeStart = performance.now();
    this.#report.activity(PAUSED_ACTIVITY);
    this.#refresh = setInterval(() => {
      this.#report.activity(`${PAUSED_ACTIVITY} (${seconds(performance.now() - this.#episodeStart)})`);
    }, PAUSED_REFRESH_MS);
    this.#refresh.unref();
    this.#report.log(`${PAUSED_ACTIVITY}: a foreground application holds the storage`);
  }

  #end(): void {
    if (--this.#active > 0) return;
    clearInterval(this.#refresh);
    const waited = performance.now() - this.#episodeStart;
    this.#episodes++;
    this.#pausedMs += waited;
    this.#report.log(`resumed after ${seconds(waited)} ${PAUSED_ACTIVITY}`);
    this.#report.activity(this.#lastActivity ?? 'resumed');
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false; // the group is gone
  }
}
