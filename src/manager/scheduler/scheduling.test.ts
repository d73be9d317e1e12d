import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useFileCluster } from '../../testing/cluster.js';
import { startTestManager, ProtocolWorker } from '../../testing/farm.js';
import { submit, task, workers, writeDiamondType } from '../../testing/farm-jobs.js';
import { makeTempDir } from '../../testing/temp.js';

/** One PostgreSQL for the file; each test gets its own database and manager. */
const fileCluster = useFileCluster({ before, after });

describe('scheduling', () => {
  it('orders by job priority, then task priority, then age; and respects fan-out and fan-in', async (t) => {
    const dir = makeTempDir(t);
    writeDiamondType(dir);
    const m = await startTestManager(t, fileCluster(), { job_types_dir: dir });
    const [w] = await workers(m, 1);
    const low = await submit(m, { name: 'low', priority: 10 });
    const diamond = await submit(m, { name: 'diamond', type: 'diamond', settings: {}, priority: 70 });
    const younger = await submit(m, { name: 'younger', priority: 70, frames: '1-2', chunkSize: 1 });
    const high = await submit(m, { name: 'high', priority: 90 });
    const order: string[] = [];
    for (;;) {
      const got = await w!.next(1000);
      if (!got) break;
      order.push(
        got.jobId === diamond.id
          ? got.name
          : got.jobId === high.id
            ? 'high'
            : got.jobId === younger.id
              ? 'younger'
              : got.jobId === low.id
                ? 'low'
                : '?',
      );
      await w!.complete(got.id);
    }
    // high (job priority 90) first. Among the priority-70 jobs task priority outranks age: the
    // diamond's A (50) before the younger job's equal tasks (age), then C (60) before them, then
    // the younger job's two (50) before B (40); D (50) once B and C are done; low (10) last.
    assert.deepEqual(order, ['high', 'A', 'C', 'younger', 'younger', 'B', 'D', 'low']);
  });

  it('dependencies hold tasks back until they complete, across workers', async (t) => {
    const dir = makeTempDir(t);
    writeDiamondType(dir);
    const m = await startTestManager(t, fileCluster(), { job_types_dir: dir });
    const [w1, w2, w3] = await workers(m, 3);
    await submit(m, { name: 'diamond', type: 'diamond', settings: {} });
    const a = (await w1!.next())!;
    assert.equal(a.name, 'A');
    assert.equal(await w2!.next(300), undefined, 'B and C wait for A');
    await w1!.complete(a.id);
    const [c, b] = [(await w2!.next())!, (await w3!.next())!];
    assert.deepEqual([c.name, b.name], ['C', 'B']);
    await w2!.complete(c.id);
    assert.equal(await w1!.next(300), undefined, 'D waits for both B and C');
    await w3!.complete(b.id);
    assert.equal((await w1!.next())!.name, 'D');
  });

  it('a tagged job only goes to workers with that tag', async (t) => {
    const m = await startTestManager(t, fileCluster());
    const [plain] = await workers(m, 1);
    const tagged = await new ProtocolWorker(m, 'gpu-box', { tags: ['gpu'] }).register();
    const { id } = await submit(m, { tag: 'gpu' });
    assert.equal(await plain!.next(300), undefined);
    assert.equal((await tagged.next())!.jobId, id);
  });

  it('task types: a worker only gets the types it supports', async (t) => {
    const m = await startTestManager(t, fileCluster());
    const videoOnly = await new ProtocolWorker(m, 'encoder', { types: ['video'] }).register();
    await submit(m);
    assert.equal(await videoOnly.next(300), undefined);
  });

  it('a worker that holds an active task gets it back; an update from another worker gets 409', async (t) => {
    const m = await startTestManager(t, fileCluster());
    const [w1, w2] = await workers(m, 2);
    await submit(m, { frames: '1-4', chunkSize: 1 });
    const held = (await w1!.next())!;
    assert.equal((await w1!.next())!.id, held.id, 'the same task again');
    const response = await w2!.update(held.id, { status: 'completed' });
    assert.equal(response.status, 409);
    assert.equal(response.body.error.code, 'not_your_task');
    assert.equal((await task(m, held.id)).status, 'active');
  });

  it('an update replayed after an outage (same sequence number) applies once', async (t) => {
    const m = await startTestManager(t, fileCluster());
    const [w] = await workers(m, 1);
    await submit(m);
    const held = (await w!.next())!;
    for (let i = 0; i < 2; i++)
      assert.equal((await w!.update(held.id, { seq: 41, log: ['frame 1 done'] })).status, 204);
    for (let i = 0; i < 2; i++)
      assert.equal((await w!.update(held.id, { seq: 42, status: 'completed', log: ['all done'] })).status, 204);
    const log = (await m.api('GET', `/tasks/${held.id}/log`)).body as string;
    assert.equal(log, 'frame 1 done\nall done\n');
    assert.equal((await task(m, held.id)).status, 'completed');
  });

  it("sign-off requeues the worker's task", async (t) => {
    const m = await startTestManager(t, fileCluster());
    const [w1, w2] = await workers(m, 2);
    await submit(m);
    const held = (await w1!.next())!;
    assert.equal((await w1!.call('POST', '/worker/sign-off')).status, 204);
    assert.equal((await task(m, held.id)).status, 'queued');
    assert.equal((await w2!.next())!.id, held.id);
    assert.equal((await m.api('GET', `/workers/${w1!.id}`)).body.status, 'offline');
  });
});
