import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { useFileCluster } from '../../testing/cluster.js';
import { startTestManager, ProtocolWorker, type TestManager } from '../../testing/farm.js';
import { waitFor } from '../../util/time.js';
import {
  JOB_STATUSES,
  TASK_STATUSES,
  TRANSIENT_JOB_STATUSES,
  WORKER_STATUSES,
  type JobStatus,
  type TaskStatus,
  type WorkerStatus,
} from './statuses.js';
import {
  JOB_ACTIONS,
  JOB_ACTION_FROM,
  TASK_ACTIONS,
  TASK_ACTION_FROM,
  WORKER_ACTIONS,
  WORKER_ACTION_FROM,
  type JobAction,
  type TaskAction,
  type WorkerAction,
} from './actions.js';
import { canJobTransition, canTaskTransition, canWorkerTransition } from './transitions.js';

/**
 * Walks every (status, action) pair of jobs, tasks and workers through the public API (HTTP,
 * as a user and as workers speaking the worker protocol) and checks each answer against the
 * action tables (allowed or 409 invalid_transition) and each resulting status against the
 * expectations written out below and the transition tables. The expectations' keys must equal
 * the tables' allowed statuses, and the setups must reach every status: a status or action
 * added to the tables fails this test until it is walked here too.
 */
const fileCluster = useFileCluster({ before, after });

const sortedKeys = (record: object): string[] => Object.keys(record).sort();
const sorted = (values: readonly string[]): string[] => [...values].sort();

/** One scenario's own tag and workers, so scenarios sharing a manager never take each other's tasks. */
class Scenario {
  readonly tag = `t${randomBytes(5).toString('hex')}`;
  constructor(readonly m: TestManager) {}

  worker(name = 'w'): Promise<ProtocolWorker> {
    return new ProtocolWorker(this.m, `${name}-${this.tag}`, { tags: [this.tag] }).register();
  }

  async submit(tasks = 3): Promise<string> {
    const response = await this.m.api('POST', '/jobs', {
      name: this.tag,
      type: 'echo-sleep',
      settings: { message: 'hi' },
      frames: `1-${tasks}`,
      chunkSize: 1,
      tag: this.tag,
    });
    assert.equal(response.status, 201, JSON.stringify(response.body));
    return response.body.id;
  }

  async job(id: string): Promise<{ status: number; body: any }> {
    return this.m.api('GET', `/jobs/${id}`);
  }

  async act(id: string, action: string, extra: Record<string, unknown> = {}): Promise<void> {
    const response = await this.m.api('POST', `/jobs/${id}/status`, { action, ...extra });
    assert.equal(response.status, 200, `${action}: ${JSON.stringify(response.body)}`);
  }
}

// ---- jobs

type VisibleJobStatus = Exclude<JobStatus, (typeof TRANSIENT_JOB_STATUSES)[number]>;

/** Puts a fresh job in each status a job can be seen in. */
const JOB_SETUPS: Record<VisibleJobStatus, (s: Scenario) => Promise<string>> = {
  queued: (s) => s.submit(),
  active: async (s) => {
    const id = await s.submit();
    await (await s.worker()).next();
    return id;
  },
  'pause-requested': async (s) => {
    const id = await JOB_SETUPS.active(s);
    await s.act(id, 'pause');
    return id;
  },
  paused: async (s) => {
    const id = await s.submit();
    await s.act(id, 'pause');
    return id;
  },
  'cancel-requested': async (s) => {
    const id = await JOB_SETUPS.active(s);
    await s.act(id, 'cancel');
    return id;
  },
  canceled: async (s) => {
    const id = await s.submit();
    await s.act(id, 'cancel');
    return id;
  },
  completed: async (s) => {
    const id = await s.submit(1);
    const w = await s.worker();
    await w.complete((await w.next())!.id);
    return id;
  },
  failed: async (s) => {
    // One capable worker: its failure leaves nobody to retry, so the job fails at once.
    const id = await s.submit();
    const w = await s.worker();
    await w.fail((await w.next())!.id);
    return id;
  },
};

type JobRequest = JobAction | 'pause now';
const JOB_REQUESTS: Record<
  JobRequest,
  { action: JobAction; send: (s: Scenario, id: string) => Promise<{ status: number; body: any }> }
> = {
  pause: { action: 'pause', send: (s, id) => s.m.api('POST', `/jobs/${id}/status`, { action: 'pause' }) },
  'pause now': {
    action: 'pause',
    send: (s, id) => s.m.api('POST', `/jobs/${id}/status`, { action: 'pause', now: true }),
  },
  resume: { action: 'resume', send: (s, id) => s.m.api('POST', `/jobs/${id}/status`, { action: 'resume' }) },
  cancel: { action: 'cancel', send: (s, id) => s.m.api('POST', `/jobs/${id}/status`, { action: 'cancel' }) },
  requeue: { action: 'requeue', send: (s, id) => s.m.api('POST', `/jobs/${id}/status`, { action: 'requeue' }) },
  delete: { action: 'delete', send: (s, id) => s.m.api('DELETE', `/jobs/${id}`) },
  priority: { action: 'priority', send: (s, id) => s.m.api('POST', `/jobs/${id}/priority`, { priority: 77 }) },
};

/** What each allowed pair leads to, written out (the active setups hold one running task of three). */
const JOB_EXPECTED: Record<JobRequest, Partial<Record<VisibleJobStatus, JobStatus | 'deleted'>>> = {
  pause: { queued: 'paused', active: 'pause-requested', 'pause-requested': 'pause-requested' },
  'pause now': { queued: 'paused', active: 'paused', 'pause-requested': 'paused' },
  resume: { paused: 'queued', 'pause-requested': 'active' },
  cancel: { queued: 'canceled', active: 'cancel-requested', paused: 'canceled', 'pause-requested': 'cancel-requested' },
  // Requeueing an active job keeps its running task: it is active again at once.
  requeue: { active: 'active', paused: 'queued', canceled: 'queued', completed: 'queued', failed: 'queued' },
  delete: { queued: 'deleted', paused: 'deleted', canceled: 'deleted', completed: 'deleted', failed: 'deleted' },
  priority: {
    queued: 'queued',
    active: 'active',
    'pause-requested': 'pause-requested',
    paused: 'paused',
    'cancel-requested': 'cancel-requested',
    canceled: 'canceled',
    completed: 'completed',
    failed: 'failed',
  },
};

// ---- tasks

/** Puts the first task of a fresh three-task job in each status; returns its id. */
const TASK_SETUPS: Record<TaskStatus, (s: Scenario) => Promise<string>> = {
  queued: async (s) => firstTask(s, await s.submit()),
  active: async (s) => {
    await s.submit();
    return (await (await s.worker()).next())!.id;
  },
  'soft-failed': async (s) => {
    await s.submit();
    const [w1] = [await s.worker('a'), await s.worker('b')];
    const task = (await w1.next())!;
    await w1.fail(task.id);
    return task.id;
  },
  failed: async (s) => {
    await s.submit();
    const w = await s.worker();
    const task = (await w.next())!;
    await w.fail(task.id);
    return task.id;
  },
  completed: async (s) => {
    await s.submit();
    const w = await s.worker();
    const task = (await w.next())!;
    await w.complete(task.id);
    return task.id;
  },
  canceled: async (s) => {
    const id = await s.submit();
    await s.act(id, 'cancel');
    return firstTask(s, id);
  },
  paused: async (s) => {
    const id = await s.submit();
    await s.act(id, 'pause');
    return firstTask(s, id);
  },
};

async function firstTask(s: Scenario, jobId: string): Promise<string> {
  const { body } = await s.m.api('GET', `/jobs/${jobId}/tasks`);
  return body.tasks.find((task: { index: number }) => task.index === 0).id;
}

const TASK_EXPECTED: Record<TaskAction, Partial<Record<TaskStatus, TaskStatus>>> = {
  requeue: { 'soft-failed': 'queued', failed: 'queued', completed: 'queued', canceled: 'queued' },
  cancel: { queued: 'canceled', active: 'canceled', 'soft-failed': 'canceled', paused: 'canceled' },
};

// ---- workers

/** Puts a fresh worker in each status. `error` needs a manager whose timeouts are short. */
const WORKER_SETUPS: Record<WorkerStatus, (s: Scenario, timingOut: Scenario) => Promise<ProtocolWorker>> = {
  awake: (s) => s.worker(),
  asleep: async (s) => {
    const w = await s.worker();
    await control(s, w, 'sleep', 'now');
    assert.equal((await w.call('POST', '/worker/state', { status: 'asleep' })).status, 204);
    return w;
  },
  offline: async (s) => {
    const w = await s.worker();
    assert.equal((await w.call('POST', '/worker/sign-off')).status, 204);
    return w;
  },
  // Taken from workers that timed out together at the start (see the test), to wait once.
  error: async (_s, timingOut) => timedOut.get(timingOut.m)!.pop()!,
  restart: async (s) => {
    const w = await s.worker();
    await control(s, w, 'restart', 'now');
    assert.equal((await w.call('POST', '/worker/sign-off')).status, 204);
    return w;
  },
};

/** Workers already in `error`, per timing-out manager. */
const timedOut = new Map<TestManager, ProtocolWorker[]>();

async function timeOutWorkers(m: TestManager, count: number): Promise<void> {
  const s = new Scenario(m);
  const workers = await Promise.all(Array.from({ length: count }, (_, i) => s.worker(`e${i}`)));
  await waitFor(
    async () => {
      const rows = await Promise.all(workers.map((w) => workerRow(s, w)));
      return rows.every((row) => row.status === 'error');
    },
    { what: 'the workers to time out', timeoutMs: 30_000 },
  );
  timedOut.set(m, workers);
}

async function control(
  s: Scenario,
  w: ProtocolWorker,
  action: WorkerAction,
  when: 'now' | 'after-task',
): Promise<{ status: number; body: any }> {
  return s.m.api('POST', `/workers/${w.id}/status`, { action, when });
}

async function workerRow(s: Scenario, w: ProtocolWorker): Promise<any> {
  return (await s.m.api('GET', `/workers/${w.id}`)).body;
}

/** The status a user's request asks each worker for (null: the request withdraws any other). */
const WORKER_EXPECTED: Record<WorkerAction, Partial<Record<WorkerStatus, WorkerStatus | null>>> = {
  sleep: { awake: 'asleep', asleep: null, offline: 'asleep', error: 'asleep', restart: 'asleep' },
  wake: { awake: null, asleep: 'awake', offline: 'awake', error: 'awake', restart: 'awake' },
  shutdown: { awake: 'offline', asleep: 'offline' },
  restart: { awake: 'restart', asleep: 'restart' },
};

/** What the worker protocol does to each status (409: the worker must sign on first). */
type ProtocolStep = 'sign on' | 'sign off' | 'report asleep' | 'report awake';
const PROTOCOL_EXPECTED: Record<ProtocolStep, Record<WorkerStatus, WorkerStatus | 409>> = {
  'sign on': { awake: 'awake', asleep: 'asleep', offline: 'awake', error: 'awake', restart: 'awake' },
  'sign off': { awake: 'offline', asleep: 'offline', offline: 'offline', error: 'offline', restart: 'offline' },
  'report asleep': { awake: 'asleep', asleep: 'asleep', offline: 409, error: 409, restart: 409 },
  'report awake': { awake: 'awake', asleep: 'awake', offline: 409, error: 409, restart: 409 },
};
const PROTOCOL_STEPS: Record<ProtocolStep, (w: ProtocolWorker) => Promise<{ status: number; body: any }>> = {
  'sign on': (w) =>
    w.call('POST', '/worker/sign-on', { name: w.name, platform: 'linux', supportedTaskTypes: ['misc'] }),
  'sign off': (w) => w.call('POST', '/worker/sign-off'),
  'report asleep': (w) => w.call('POST', '/worker/state', { status: 'asleep' }),
  'report awake': (w) => w.call('POST', '/worker/state', { status: 'awake' }),
};

function assertRefused(response: { status: number; body: any }, what: string): void {
  assert.equal(response.status, 409, `${what}: ${JSON.stringify(response.body)}`);
  assert.equal(response.body.error.code, 'invalid_transition', what);
  assert.equal(typeof response.body.error.message, 'string');
}

describe('every (status, action) pair, through the public API', () => {
  it('the walk covers every status and action of the tables, and expects exactly the allowed pairs', () => {
    assert.deepEqual(
      sorted([...sortedKeys(JOB_SETUPS), ...TRANSIENT_JOB_STATUSES]),
      sorted(JOB_STATUSES),
      'every job status is set up (or is transient)',
    );
    assert.deepEqual(sortedKeys(TASK_SETUPS), sorted(TASK_STATUSES));
    assert.deepEqual(sortedKeys(WORKER_SETUPS), sorted(WORKER_STATUSES));
    assert.deepEqual(
      sorted(
        Object.values(JOB_REQUESTS)
          .map((r) => r.action)
          .filter((a, i, all) => all.indexOf(a) === i),
      ),
      sorted(JOB_ACTIONS),
    );
    for (const [request, { action }] of Object.entries(JOB_REQUESTS) as Array<[JobRequest, { action: JobAction }]>) {
      const visible = JOB_ACTION_FROM[action].filter(
        (status) => !(TRANSIENT_JOB_STATUSES as readonly JobStatus[]).includes(status),
      );
      assert.deepEqual(sortedKeys(JOB_EXPECTED[request]), sorted(visible), `expectations for job ${request}`);
    }
    assert.deepEqual(sortedKeys(TASK_EXPECTED), sorted(TASK_ACTIONS));
    for (const action of TASK_ACTIONS)
      assert.deepEqual(
        sortedKeys(TASK_EXPECTED[action]),
        sorted(TASK_ACTION_FROM[action]),
        `expectations for task ${action}`,
      );
    assert.deepEqual(sortedKeys(WORKER_EXPECTED), sorted(WORKER_ACTIONS));
    for (const action of WORKER_ACTIONS)
      assert.deepEqual(
        sortedKeys(WORKER_EXPECTED[action]),
        sorted(WORKER_ACTION_FROM[action]),
        `expectations for worker ${action}`,
      );
  });

  it('jobs: each action is done or refused as JOB_ACTION_FROM says, with the expected outcome', async (t) => {
    const m = await startTestManager(t, fileCluster());
    for (const [from, setUp] of Object.entries(JOB_SETUPS) as Array<
      [VisibleJobStatus, (s: Scenario) => Promise<string>]
    >) {
      for (const [request, { action, send }] of Object.entries(JOB_REQUESTS) as Array<
        [JobRequest, (typeof JOB_REQUESTS)[JobRequest]]
      >) {
        const s = new Scenario(m);
        const id = await setUp(s);
        const before = (await s.job(id)).body;
        assert.equal(before.status, from, `set-up of ${from}`);
        const what = `${request} a ${from} job`;
        const response = await send(s, id);
        const expected = JOB_EXPECTED[request][from];
        if (!JOB_ACTION_FROM[action].includes(from)) {
          assertRefused(response, what);
          const after = (await s.job(id)).body;
          assert.deepEqual(
            [after.status, after.priority, after.taskCounts],
            [before.status, before.priority, before.taskCounts],
            `${what}: nothing changed`,
          );
          continue;
        }
        assert.ok(
          response.status === 200 || response.status === 204,
          `${what}: ${response.status} ${JSON.stringify(response.body)}`,
        );
        if (expected === 'deleted') {
          assert.equal((await s.job(id)).status, 404, what);
          continue;
        }
        const after = (await s.job(id)).body;
        assert.equal(after.status, expected, what);
        const direct = canJobTransition(from, after.status);
        const throughRequeueing =
          canJobTransition(from, 'requeueing') &&
          canJobTransition('requeueing', 'queued') &&
          canJobTransition('queued', after.status);
        assert.ok(
          direct || (action === 'requeue' && throughRequeueing),
          `${what}: ${from} -> ${after.status} is in the transition table`,
        );
        if (action === 'priority') assert.equal(after.priority, 77, what);
      }
    }
  });

  it('tasks: each action is done or refused as TASK_ACTION_FROM says', async (t) => {
    const m = await startTestManager(t, fileCluster());
    for (const [from, setUp] of Object.entries(TASK_SETUPS) as Array<[TaskStatus, (s: Scenario) => Promise<string>]>) {
      for (const action of TASK_ACTIONS) {
        const s = new Scenario(m);
        const id = await setUp(s);
        assert.equal((await m.api('GET', `/tasks/${id}`)).body.status, from, `set-up of ${from}`);
        const what = `${action} a ${from} task`;
        const response = await m.api('POST', `/tasks/${id}/status`, { action });
        const after = (await m.api('GET', `/tasks/${id}`)).body;
        if (!TASK_ACTION_FROM[action].includes(from)) {
          assertRefused(response, what);
          assert.equal(after.status, from, `${what}: unchanged`);
          continue;
        }
        assert.equal(response.status, 200, `${what}: ${JSON.stringify(response.body)}`);
        assert.equal(after.status, TASK_EXPECTED[action][from], what);
        assert.ok(canTaskTransition(from, after.status), `${what}: in the transition table`);
        const job = (await m.api('GET', `/jobs/${after.jobId}`)).body;
        if (action === 'requeue')
          assert.ok(['queued', 'active'].includes(job.status), `${what}: its job runs again (${job.status})`);
      }
    }
  });

  it('workers: user requests and the worker protocol are done or refused as the tables say', async (t) => {
    const m = await startTestManager(t, fileCluster());
    // Its workers time out after 2 s: plenty for one step, short enough to wait for once.
    const timingOutManager = await startTestManager(t, fileCluster(), {
      worker_timeout: 2,
      timeout_check_interval: 0.2,
    });
    await timeOutWorkers(timingOutManager, WORKER_ACTIONS.length * 2 + Object.keys(PROTOCOL_EXPECTED).length);
    for (const [from, setUp] of Object.entries(WORKER_SETUPS) as Array<
      [WorkerStatus, (s: Scenario, timingOut: Scenario) => Promise<ProtocolWorker>]
    >) {
      for (const action of WORKER_ACTIONS) {
        for (const when of ['after-task', 'now'] as const) {
          const s = new Scenario(m);
          const timingOut = new Scenario(timingOutManager);
          const w = await setUp(s, timingOut);
          const on = w.manager === m ? s : timingOut;
          assert.equal((await workerRow(on, w)).status, from, `set-up of ${from}`);
          const what = `${action} (${when}) a worker that is ${from}`;
          const response = await control(on, w, action, when);
          const after = await workerRow(on, w);
          assert.equal(after.status, from, `${what}: a request does not change the status itself`);
          if (!WORKER_ACTION_FROM[action].includes(from)) {
            assertRefused(response, what);
            continue;
          }
          assert.equal(response.status, 200, `${what}: ${JSON.stringify(response.body)}`);
          assert.equal(after.statusRequested, WORKER_EXPECTED[action][from], what);
        }
      }
      for (const [step, expected] of Object.entries(PROTOCOL_EXPECTED) as Array<
        [ProtocolStep, Record<WorkerStatus, WorkerStatus | 409>]
      >) {
        const s = new Scenario(m);
        const timingOut = new Scenario(timingOutManager);
        const w = await setUp(s, timingOut);
        const on = w.manager === m ? s : timingOut;
        const what = `${step} by a worker that is ${from}`;
        const response = await PROTOCOL_STEPS[step](w);
        const after = await workerRow(on, w);
        if (expected[from] === 409) {
          assert.equal(response.status, 409, `${what}: ${JSON.stringify(response.body)}`);
          assert.equal(response.body.error.code, 'sign_on_required', what);
          assert.equal(after.status, from, `${what}: unchanged`);
          continue;
        }
        assert.ok(
          response.status === 200 || response.status === 204,
          `${what}: ${response.status} ${JSON.stringify(response.body)}`,
        );
        assert.equal(after.status, expected[from], what);
        assert.ok(canWorkerTransition(from, after.status), `${what}: in the transition table`);
      }
    }
  });
});
