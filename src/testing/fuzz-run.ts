import fc from 'fast-check';
import { requestArbitraries, send, type FuzzRequest, type KnownIds } from './api-fuzz.js';
import { ProtocolWorker, type TestManager } from './farm.js';

/** What a fuzz run saw: requests, answers per status, problems (with the request), and what the farm should now hold. */
export interface FuzzTally {
  requests: number;
  byStatus: Map<number, number>;
  problems: Array<{ request: FuzzRequest; status: number; problem: string }>;
  /** Jobs and workers the accepted requests created minus those they deleted. */
  jobsDelta: number;
  workersDelta: number;
}

/** Jobs, tasks and workers for the requests to name, so that valid requests reach the services. */
export async function seedFarm(m: TestManager): Promise<KnownIds> {
  const jobs: string[] = [];
  for (const body of [
    { name: 'seed', type: 'echo-sleep', settings: {} },
    { name: 'seed2', type: 'command', settings: { argv: ['echo', '{frame}'] }, frames: '1-6', chunkSize: 2 },
  ]) {
    const response = await m.api('POST', '/jobs', body);
    if (response.status !== 201) throw new Error(`seed job: ${JSON.stringify(response.body)}`);
    jobs.push(response.body.id);
  }
  const first = await new ProtocolWorker(m, 'fuzz-a').register();
  const workers = [first, await new ProtocolWorker(m, 'fuzz-b').register()];
  const held = await first.next(1000);
  const tasks: string[] = [];
  for (const id of jobs)
    tasks.push(
      ...((await m.api('GET', `/jobs/${id}/tasks`)).body.tasks as Array<{ id: string }>).map((task) => task.id),
    );
  if (held && !tasks.includes(held.id)) tasks.push(held.id);
  return {
    jobs,
    tasks,
    workers: workers.map((w) => w.id),
    workerAuth: workers.map((w) => w.auth.authorization),
    farmSecret: m.farmSecret,
  };
}

/**
 * Sends `count` generated requests to a running manager, `concurrency` at a time, and checks
 * every answer (no 5xx, errors in Kiln's shape) and that the manager still answers after each
 * batch. fast-check generates (and on failure shrinks) the batches; `seed` repeats a run.
 */
export async function fuzzManager(
  m: TestManager,
  known: KnownIds,
  options: { count: number; concurrency?: number; seed?: number },
): Promise<FuzzTally> {
  const openapi = (await m.api('GET', '/openapi.json')).body;
  const request = fc.oneof(...requestArbitraries(openapi, known));
  const concurrency = options.concurrency ?? 8;
  const tally: FuzzTally = { requests: 0, byStatus: new Map(), problems: [], jobsDelta: 0, workersDelta: 0 };
  const base = m.url;
  await fc.assert(
    fc.asyncProperty(fc.array(request, { minLength: concurrency, maxLength: concurrency }), async (batch) => {
      const answers = await Promise.all(batch.map(async (r) => ({ request: r, ...(await send(base, r)) })));
      const wrong: string[] = [];
      for (const { request: r, status, problem } of answers) {
        tally.requests++;
        tally.byStatus.set(status, (tally.byStatus.get(status) ?? 0) + 1);
        if (problem) {
          tally.problems.push({
            request: {
              ...r,
              ...(r.body && r.body.length > 300 ? { body: `${r.body.slice(0, 300)}… (${r.body.length} chars)` } : {}),
            },
            status,
            problem,
          });
          wrong.push(
            `${r.method} ${r.path.slice(0, 200)}${r.body === undefined ? '' : ` ${r.body.slice(0, 300)}`} -> ${status}: ${problem}`,
          );
        }
        if (r.route === 'post /api/v1/jobs' && status === 201) tally.jobsDelta++;
        if (r.route === 'delete /api/v1/jobs/{id}' && status === 204) tally.jobsDelta--;
        if (r.route === 'post /api/v1/worker/register' && status === 201) tally.workersDelta++;
        if (r.route === 'delete /api/v1/workers/{id}' && status === 204) tally.workersDelta--;
      }
      const alive = await fetch(`${base}/api/v1/version`);
      await alive.text();
      if (alive.status !== 200) wrong.push(`the manager stopped answering (GET /version: ${alive.status})`);
      if (wrong.length) throw new Error(wrong.join('\n'));
    }),
    {
      numRuns: Math.max(1, Math.ceil(options.count / concurrency)),
      endOnFailure: true,
      ...(options.seed === undefined ? {} : { seed: options.seed }),
    },
  );
  return tally;
}
