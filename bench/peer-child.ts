/**
 * Child-process entry for the dispatch benchmark's peers (graphile-worker 0.17.3, pg-boss
 * 10.4.2): runs their workers with a no-op handler, so they have a process of their own as
 * the Kiln manager does. Driven over IPC by bench/peers.ts; exits when the parent goes away.
 */
import { run, makeWorkerUtils, Logger, type Runner, type WorkerUtils } from 'graphile-worker';
import { setTimeout as sleep } from 'node:timers/promises';
import PgBoss from 'pg-boss';

export type PeerCommand =
  | {
      type: 'graphile-work';
      connectionString: string;
      concurrency: number;
      maxPoolSize?: number;
      localQueueSize?: number;
      completeJobBatchDelay?: number;
    }
  | { type: 'graphile-trickle'; connectionString: string; concurrency: number; samples: number }
  | {
      type: 'pgboss-work';
      connectionString: string;
      queue: string;
      loops: number;
      batchSize: number;
      pollingIntervalSeconds: number;
    }
  | {
      type: 'pgboss-trickle';
      connectionString: string;
      queue: string;
      loops: number;
      batchSize: number;
      pollingIntervalSeconds: number;
      samples: number;
    };

export type PeerMessage =
  | { type: 'ready' }
  | { type: 'progress'; count: number; firstAt: number; lastAt: number }
  | { type: 'latency'; ackToStartMs: number[]; sendToStartMs: number[] }
  | { type: 'stopped'; cpuSeconds: number }
  | { type: 'error'; message: string };

const clock = (): number => performance.timeOrigin + performance.now();
const send = (message: PeerMessage): void => {
  if (!process.send) throw new Error('peer-child runs forked by bench/peers.ts, with an IPC channel');
  process.send(message);
};
const silent = new Logger(() => () => undefined);

let count = 0;
let firstAt = 0;
let lastAt = 0;
const seen = (): void => {
  const at = clock();
  if (!firstAt) firstAt = at;
  lastAt = at;
  count += 1;
};
let reported = -1;
const progress = setInterval(() => {
  if (count !== reported) {
    reported = count;
    send({ type: 'progress', count, firstAt, lastAt });
  }
}, 10);

let stop: (() => Promise<void>) | undefined;

/** Measures add-acknowledged → handler-started, one job at a time. */
async function trickleSamples(
  samples: number,
  add: (i: number) => Promise<unknown>,
  started: Map<number, number>,
): Promise<void> {
  const ackToStartMs: number[] = [];
  const sendToStartMs: number[] = [];
  for (let i = 0; i < samples; i++) {
    const sent = clock();
    await add(i);
    const acked = clock();
    const deadline = Date.now() + 10_000;
    let startedAt = started.get(i);
    while (startedAt === undefined) {
      if (Date.now() > deadline) throw new Error(`trickle job ${i} never started`);
      await sleep(0.2);
      startedAt = started.get(i);
    }
    ackToStartMs.push(startedAt - acked);
    sendToStartMs.push(startedAt - sent);
    await sleep(5);
  }
  send({ type: 'latency', ackToStartMs, sendToStartMs });
}

async function handle(command: PeerCommand): Promise<void> {
  if (command.type === 'graphile-work' || command.type === 'graphile-trickle') {
    const started = new Map<number, number>();
    const runner: Runner = await run({
      connectionString: command.connectionString,
      concurrency: command.concurrency,
      noHandleSignals: true,
      logger: silent,
      ...(command.type === 'graphile-work' && command.maxPoolSize ? { maxPoolSize: command.maxPoolSize } : {}),
      ...(command.type === 'graphile-work' && (command.localQueueSize || command.completeJobBatchDelay !== undefined)
        ? {
            preset: {
              worker: {
                ...(command.localQueueSize ? { localQueue: { size: command.localQueueSize } } : {}),
                ...(command.completeJobBatchDelay !== undefined
                  ? {
                      completeJobBatchDelay: command.completeJobBatchDelay,
                      failJobBatchDelay: command.completeJobBatchDelay,
                    }
                  : {}),
              },
            },
          }
        : {}),
      taskList: {
        noop: async (payload) => {
          seen();
          const i = (payload as { i?: number } | null)?.i;
          if (typeof i === 'number') started.set(i, clock());
        },
      },
    });
    let utils: WorkerUtils | undefined;
    stop = async () => {
      await utils?.release();
      await runner.stop();
    };
    send({ type: 'ready' });
    if (command.type === 'graphile-trickle') {
      const workerUtils = await makeWorkerUtils({ connectionString: command.connectionString, logger: silent });
      utils = workerUtils;
      await trickleSamples(command.samples, (i) => workerUtils.addJob('noop', { i }), started);
    }
  } else {
    const boss = new PgBoss({ connectionString: command.connectionString });
    boss.on('error', (error) => send({ type: 'error', message: String(error) }));
    await boss.start();
    const started = new Map<number, number>();
    for (let l = 0; l < command.loops; l++) {
      await boss.work<{ i?: number }>(
        command.queue,
        { batchSize: command.batchSize, pollingIntervalSeconds: command.pollingIntervalSeconds },
        async (jobs) => {
          for (const job of jobs) {
            seen();
            if (typeof job.data?.i === 'number') started.set(job.data.i, clock());
          }
        },
      );
    }
    stop = () => boss.stop({ graceful: true, wait: true, timeout: 5000 });
    send({ type: 'ready' });
    if (command.type === 'pgboss-trickle')
      await trickleSamples(command.samples, (i) => boss.send(command.queue, { i }), started);
  }
}

process.on('message', (message: PeerCommand | { type: 'stop' }) => {
  void (async () => {
    try {
      if (message.type === 'stop') {
        clearInterval(progress);
        await stop?.();
        const cpu = process.cpuUsage();
        send({ type: 'stopped', cpuSeconds: (cpu.user + cpu.system) / 1e6 });
        setTimeout(() => process.exit(0), 20);
      } else {
        await handle(message);
      }
    } catch (error) {
      send({ type: 'error', message: error instanceof Error ? `${error.message}\n${error.stack}` : String(error) });
    }
  })();
});
process.on('disconnect', () => process.exit(0));
