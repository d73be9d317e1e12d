import { hostname } from 'node:os';
import pino, { type Logger } from 'pino';
import { SECOND } from '../util/time.js';
import type { Clock } from '../util/clock.js';
import { UserError } from '../util/errors.js';
import { collectGarbage } from '../storage/index.js';
import { parseListen, type ManagerConfig } from './config.js';
import { openFarmDatabase } from './open-database.js';
import { buildServices, type ManagerServices } from './services.js';
import { acceptsApiToken, ensureFarmSecret } from './auth/secrets.js';
import { checkTimeouts, startTimeoutChecker, type TimeoutDeps } from './timeouts.js';
import { startSleepScheduler } from './workers/sleep-scheduler.js';
import { buildApp, type App } from './api/app.js';
import { SharedStorage } from './storage/shared-storage.js';

import { KILN_VERSION } from '../util/version.js';
import { startManagerDiscovery } from './discovery.js';
import { announceOnDnsSd } from './dns-sd-announce.js';
import { ensureHostIdentity } from '../config/host-identity.js';
import { IoPriorityGate, gateTargets, ioSettings } from '../io/index.js';
import { EventBus } from './events/bus.js';
import { startFarmCluster, type FarmCluster } from './cluster/index.js';
import { findJobVideo, startDashboardHistory, startFarmSampler } from './history/index.js';
import { NetworkServices } from './network-services.js';

export interface RunningManager {
  url: string;
  app: App;
  /** What the manager runs on (for tests, benchmarks and the demo's messages). */
  services: ManagerServices;
  /** This manager among the others of its farm: its id, whether it leads. */
  cluster: Pick<FarmCluster, 'managerId' | 'status' | 'link'>;
  farmSecret: string;
  /** Runs one timeout check now (they also run every timeout_check_interval). */
  checkTimeouts: () => Promise<{ tasks: number; workers: number }>;
  close: () => Promise<void>;
}

/** The composition root: connects the database, builds the services, serves the API. */
export async function startManager(options: {
  home: string;
  config: ManagerConfig;
  log?: Logger;
  /** The time timeouts, sleep schedules and garbage age are read against (tests set it). */
  clock?: Clock;
  /** This host's UUID; default: network.cfg's `[Local] UUID` under the home (made on first use). */
  hostUuid?: string;
}): Promise<RunningManager> {
  const { home, config } = options;
  const { host, port } = parseListen(config.listen); // a bad address fails before anything starts
  const log = options.log ?? pino({ name: 'kiln-manager' }, pino.destination(2));
  // I/O priority: Shaman checkouts and garbage collection wait while a foreground application holds.
  const ioGate = new IoPriorityGate({ targets: gateTargets(ioSettings(home)), program: 'kiln manager' });
  // Refuse settings that cannot work before anything starts (UNC path, cloud-synced folder).
  const storage = await SharedStorage.open(config, ioGate);
  const { db, schedulerDb, target, stopEmbedded, close: closeDatabase } = await openFarmDatabase(home, config, log);
  // Undoes what is started so far, in reverse; a failing start leaves nothing running.
  const started: Array<() => unknown> = [() => ioGate.close(), () => stopEmbedded?.(), () => closeDatabase()];
  const teardown = (): Promise<void> => undoAll(started);
  try {
    const hostUuid = options.hostUuid ?? (await ensureHostIdentity(home)).uuid;
    const farmSecret = await ensureFarmSecret(db);
    // The other managers of the farm: wake-ups and events cross over NOTIFY, one of them leads.
    const bus = new EventBus();
    let built: ManagerServices | undefined;
    const cluster = await startFarmCluster({
      target,
      db,
      bus,
      log,
      onWorkReady: () => built?.dispatcher.kick(),
      onRelease: (id) => built?.dispatcher.release(id),
      onWorkerDeleted: (id) => built?.workers.forget(id),
    });
    started.push(() => cluster.close());
    // Tests set the time; a real farm reads the database's, so every manager stamps and judges alike.
    const now = options.clock ?? cluster.clock.now;
    const services = await buildServices({
      db,
      schedulerDb,
      config,
      home,
      log,
      storage,
      farmSecret,
      now,
      bus,
      elsewhere: cluster.link,
    });
    built = services;
    const { dispatcher, jobs, workers, auth, taskUpdates, taskControl, outputs } = services;
    started.push(() => dispatcher.stop());
    const dashboard = startDashboardHistory({ db, bus: services.bus, log, now });
    started.push(() => dashboard.stop());
    const app = await buildApp({
      log,
      version: KILN_VERSION,
      userAuth: { open: config.open, acceptsToken: (token) => acceptsApiToken(db, token) },
      meta: {
        version: KILN_VERSION,
        registry: services.registry,
        host: { uuid: hostUuid, name: hostname() },
        cluster: () => cluster.status(),
      },
      jobs: { jobs, storage, outputs },
      tasks: { tasks: taskControl, outputs },
      workers: { workers },
      workerProtocol: { auth, workers, taskUpdates, taskControl, outputs },
      events: { bus: services.bus },
      storage: { storage, config },
      dashboard: {
        history: dashboard.history,
        network: new NetworkServices(home),
        findVideo: (jobId) => findJobVideo({ db, storage }, jobId),
      },
    });
    const url = await listen(app, host, port, config.listen);
    // Long polls end before the server waits for its requests; heartbeats are saved after.
    started.push(
      () => auth.flushHeartbeats().catch(() => undefined),
      async () => {
        dispatcher.stop();
        await app.close();
      },
    );
    const timeouts = timeoutDeps(services, config, log, now);
    started.push(startHeartbeats(services));
    cluster.startLeadership(reachableUrl(url, host), () =>
      startFarmDuties(services, config, storage, timeouts, log, now),
    );
    log.info({ url, manager: cluster.managerId }, 'manager listening');
    const stopDiscovery = await startManagerDiscovery({ home, config, url, log });
    if (stopDiscovery) started.push(stopDiscovery);
    if (config.discovery.dns_sd)
      started.push(await announceOnDnsSd({ hostUuid, version: KILN_VERSION, httpPort: portOf(url), log }));
    let closing: Promise<void> | undefined;
    // The goodbyes go first (they were started last): nobody should find a manager that no longer answers.
    const close = (): Promise<void> => (closing ??= teardown().then(() => log.info('manager stopped')));
    return { url, app, services, cluster, farmSecret, checkTimeouts: () => checkTimeouts(timeouts), close };
  } catch (error) {
    await teardown();
    throw error;
  }
}

/** The URL other hosts reach this manager at: listening on every interface, by this host's name. */
function reachableUrl(url: string, listenHost: string): string {
  if (listenHost !== '0.0.0.0' && listenHost !== '::') return url;
  const reachable = new URL(url);
  reachable.hostname = hostname();
  return reachable.toString().replace(/\/$/, '');
}

function portOf(url: string): number {
  return Number(new URL(url).port);
}

/** Listens; the answer is the URL clients reach it at. Closes the app when it cannot. */
async function listen(app: App, host: string, port: number, listenSetting: string): Promise<string> {
  let address: string;
  try {
    address = await app.listen({ host, port });
  } catch (error) {
    await app.close();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new UserError(
        `cannot listen on ${listenSetting}: the port is already in use (pick another with --listen)`,
        { field: 'listen' },
      );
    if (code === 'EADDRNOTAVAIL')
      throw new UserError(`cannot listen on ${listenSetting}: no interface of this host has that address`, {
        field: 'listen',
      });
    throw error;
  }
  return address.replace('0.0.0.0', '127.0.0.1').replace('[::]', '[::1]');
}

function timeoutDeps(services: ManagerServices, config: ManagerConfig, log: Logger, now: Clock): TimeoutDeps {
  const { db, logs, dispatcher, taskUpdates, workers, auth } = services;
  return {
    db,
    logs,
    log,
    taskUpdates,
    workers,
    auth,
    waitingWorkerIds: () => dispatcher.waitingWorkerIds(),
    taskTimeoutMs: config.task_timeout * SECOND,
    workerTimeoutMs: config.worker_timeout * SECOND,
    now,
  };
}

/**
 * The duties that run once farm-wide, on the leader only: timeouts, sleep schedules, Shaman garbage,
 * the dashboard's samples of the farm's load.
 */
function startFarmDuties(
  services: ManagerServices,
  config: ManagerConfig,
  storage: SharedStorage,
  timeouts: TimeoutDeps,
  log: Logger,
  now: Clock,
): () => void {
  const { db, workers } = services;
  const stopTimeouts = startTimeoutChecker(timeouts, config.timeout_check_interval * SECOND);
  const stopSleep = startSleepScheduler({ db, workers, log }, 30 * SECOND);
  const stopSampler = startFarmSampler({ db, log, now });
  const shaman = storage.shaman;
  const gc = shaman
    ? setInterval(() => {
        const options = { maxAgeMs: config.shaman.gc.max_age * SECOND, now: now().getTime(), gate: shaman.ioGate };
        collectGarbage(shaman.store, shaman.jobsDir, options)
          .then((report) => report.blobsRemoved && log.info(report, 'shaman garbage collected'))
          .catch((error: unknown) => log.warn({ err: error }, 'shaman garbage collection failed'));
      }, config.shaman.gc.period * SECOND)
    : undefined;
  gc?.unref();
  return () => {
    stopTimeouts();
    stopSleep();
    stopSampler();
    if (gc) clearInterval(gc);
  };
}

/** Every manager writes the heartbeats of the workers it hears from, in batches every few seconds. */
function startHeartbeats(services: ManagerServices): () => void {
  const { dispatcher, auth } = services;
  const heartbeat = setInterval(
    () => void auth.flushHeartbeats(dispatcher.waitingWorkerIds()).catch(() => undefined),
    5 * SECOND,
  );
  heartbeat.unref();
  return () => clearInterval(heartbeat);
}

/** Runs and forgets every undo step, the last started first. */
async function undoAll(started: Array<() => unknown>): Promise<void> {
  for (const undo of started.splice(0).reverse()) await undo();
}
