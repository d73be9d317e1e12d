import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Worker } from '../../client/index.js';
import { useFileFarm, ProtocolWorker, type TestManager } from '../../testing/farm.js';
import { runKiln, type CliResult } from '../../testing/cli.js';
import { workerStatus } from './workers.js';

let m: TestManager;
let home: string;
useFileFarm({ before, after }, {}, (farm) => ({ manager: m, home } = farm));

const kiln = (args: string[]): Promise<CliResult> =>
  runKiln(args, { env: { KILN_MANAGER: m.url, KILN_HOME: home, KILN_TOKEN: '' } });
const fetchWorker = async (id: string): Promise<Worker> => (await m.api('GET', `/workers/${id}`)).body;

describe('kiln workers', () => {
  it('shows a requested change next to the status', () => {
    assert.equal(workerStatus({ status: 'awake', statusRequested: null, lazyStatusRequest: false }), 'awake');
    assert.equal(
      workerStatus({ status: 'awake', statusRequested: 'asleep', lazyStatusRequest: true }),
      'awake → asleep after task',
    );
    assert.equal(
      workerStatus({ status: 'awake', statusRequested: 'offline', lazyStatusRequest: false }),
      'awake → offline',
    );
  });

  it('ls, sleep (by name), wake, shutdown --now (by id prefix), tag, --json', async () => {
    const w1 = await new ProtocolWorker(m, 'render-01', { tags: ['old'] }).register();
    const w2 = await new ProtocolWorker(m, 'render-02').register();
    await m.api('POST', '/jobs', { name: 'busy', type: 'echo-sleep', settings: {} });
    const held = (await w2.next(5000))!;

    const list = await kiln(['workers', 'ls']);
    assert.equal(list.code, 0, list.stderr);
    const lines = list.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^ID\s+NAME\s+STATUS\s+PLATFORM\s+TAGS\s+TASK\s+SEEN\s+ADDRESS$/);
    assert.match(
      lines.find((line) => line.includes('render-01'))!,
      new RegExp(`^${w1.id.slice(0, 8)}\\s+render-01\\s+awake\\s+linux\\s+old\\s+-\\s+\\d+s`),
    );
    assert.match(
      lines.find((line) => line.includes('render-02'))!,
      new RegExp(`render-02\\s+awake\\s+linux\\s+-\\s+…${held.id.slice(-8)}\\s`),
    );

    const slept = await kiln(['workers', 'sleep', 'render-01']);
    assert.equal(slept.code, 0, slept.stderr);
    assert.equal(slept.stdout, `worker "render-01" (${w1.id.slice(0, 8)}): awake → asleep after task\n`);
    const woken = await kiln(['workers', 'wake', w1.id]);
    assert.equal(woken.code, 0, woken.stderr);
    assert.equal(
      (await fetchWorker(w1.id)).statusRequested,
      null,
      'waking an awake worker withdraws its pending sleep',
    );

    const shut = await kiln(['workers', 'shutdown', w2.id.slice(0, 6), '--now', '--json']);
    assert.equal(shut.code, 0, shut.stderr);
    assert.deepEqual(
      [JSON.parse(shut.stdout).statusRequested, JSON.parse(shut.stdout).lazyStatusRequest],
      ['offline', false],
    );
    assert.equal((await m.api('GET', `/tasks/${held.id}`)).body.status, 'queued', '--now requeues the running task');

    const tagged = await kiln(['workers', 'tag', 'render-01', 'gpu', 'fast']);
    assert.equal(tagged.code, 0, tagged.stderr);
    assert.equal(tagged.stdout, `worker "render-01" (${w1.id.slice(0, 8)}): tags gpu, fast\n`);
    assert.deepEqual((await fetchWorker(w1.id)).tags, ['gpu', 'fast']);
    await kiln(['workers', 'tag', 'render-01', '--clear']);
    assert.deepEqual((await fetchWorker(w1.id)).tags, []);

    const json = await kiln(['workers', 'ls', '--json']);
    assert.deepEqual(
      JSON.parse(json.stdout)
        .workers.map((w: Worker) => w.name)
        .sort(),
      ['render-01', 'render-02'],
    );
  });

  it('unknown workers and missing tags: one line each', async () => {
    const [unknown, noTags, both] = await Promise.all([
      kiln(['workers', 'sleep', 'nobody']),
      kiln(['workers', 'tag', 'nobody']),
      kiln(['workers', 'tag', 'nobody', 'x', '--clear']),
    ]);
    for (const result of [unknown, noTags, both]) {
      assert.equal(result.code, 1);
      assert.match(result.stderr, /^kiln: [^\n]+\n$/);
    }
    assert.match(unknown.stderr, /no worker named "nobody"/);
    assert.match(noTags.stderr, /give the new tags .*or --clear/);
    assert.match(both.stderr, /tags or --clear, not both/);
  });
});
