/**
 * Which manager a worker talks to. A configured one (flag, KILN_MANAGER, worker.yaml) is used as
 * given. Without one the worker asks the resolution chain (services.cfg, multicast, DNS-SD) until
 * it finds a manager, and then watches it: after several failed checks in a row it asks the
 * chain again and moves to whatever manager answers now (the farm's manager moved host).
 */
import type { Logger } from 'pino';
import { findManager, type FindManagerOptions } from '../discovery/find-manager.js';
import type { ResolvedManager } from '../discovery/resolve-manager.js';
import { probeManager } from '../discovery/probes.js';
import { UserError } from '../util/errors.js';
import { SECOND } from '../util/time.js';
import { Backoff, type RetryClock } from './backoff.js';

export interface ManagerFinderOptions {
  home: string;
  /** The configured manager, if any. */
  configured?: string | undefined;
  multicast?: FindManagerOptions['multicast'];
  env?: NodeJS.ProcessEnv | undefined;
  logger: Logger;
  maxDelayMs: number;
  clock?: RetryClock | undefined;
}

/** The manager to use, asking again (with growing pauses) until one is found; undefined if stopped first. */
export async function findWorkerManager(
  options: ManagerFinderOptions,
  signal: AbortSignal,
): Promise<ResolvedManager | undefined> {
  const backoff = new Backoff(500, options.maxDelayMs, options.clock);
  let warned = false;
  while (!signal.aborted) {
    try {
      const found = await findManager({
        home: options.home,
        config: options.configured,
        multicast: options.multicast,
        ...(options.env ? { env: options.env } : {}),
      });
      if (found.source !== 'flag' && found.source !== 'config')
        options.logger.info({ manager: found.url, source: found.source }, 'found the manager');
      return found;
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      if (!warned) options.logger.warn({ reason: error.message }, 'no manager found yet; looking again');
      warned = true;
      await backoff.wait(signal);
    }
  }
  return undefined;
}

/** How the watch decides a manager is gone. */
export const MANAGER_WATCH = Object.freeze({
  /** Between checks of the current manager. */
  intervalMs: 5 * SECOND,
  /** Failed checks in a row before asking the chain again. */
  failuresBeforeResolve: 3,
  probeTimeoutMs: 1 * SECOND,
});

/**
 * Checks the discovered managers now and then (`current`: one URL, or several comma-separated,
 * among which the client already moves by itself); when none has answered for a while and the
 * chain names others that answer, calls `onMoved` once with them. Returns the watch's stop.
 */
export function watchDiscoveredManager(
  current: string,
  options: ManagerFinderOptions & { watch?: Partial<typeof MANAGER_WATCH> },
  onMoved: (next: ResolvedManager) => void,
): () => void {
  const watch = { ...MANAGER_WATCH, ...options.watch };
  const targets = current.split(',').map((url) => {
    const { hostname, port } = new URL(url);
    return { host: hostname.replace(/^\[|\]$/g, ''), port: Number(port) };
  });
  const sameManagers = (urls: string): boolean =>
    [...urls.split(',')].sort().join(',') === [...current.split(',')].sort().join(',');
  let failures = 0;
  let busy = false;
  let stopped = false;
  const check = async (): Promise<void> => {
    const answers = await Promise.all(targets.map((t) => probeManager(t.host, t.port, watch.probeTimeoutMs)));
    failures = answers.some((answer) => answer !== undefined) ? 0 : failures + 1;
    if (failures < watch.failuresBeforeResolve) return;
    options.logger.warn({ manager: current, failures }, 'the manager stopped answering; looking for it again');
    const next = await findManager({
      home: options.home,
      multicast: options.multicast,
      ...(options.env ? { env: options.env } : {}),
    }).catch(() => undefined);
    if (next && !sameManagers(next.url) && !stopped) {
      stopped = true;
      clearInterval(timer);
      onMoved(next);
    }
  };
  const timer = setInterval(() => {
    if (busy || stopped) return;
    busy = true;
    void check().finally(() => (busy = false));
  }, watch.intervalMs);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
