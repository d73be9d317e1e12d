import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { useFileFarm, ProtocolWorker, type TestManager } from '../testing/farm.js';
import { makeTempDir } from '../testing/temp.js';
import { InvalidImageError, Previews } from './previews.js';

let m: TestManager;
useFileFarm({ before, after }, {}, (farm) => ({ manager: m } = farm));

const image = (colour: string, width = 640): Promise<Buffer> =>
  sharp({ create: { width, height: Math.round(width * 0.5625), channels: 3, background: colour } })
    .png()
    .toBuffer();

describe('job previews', () => {
  it('accepts previews sent at the same moment by several workers of one job', async () => {
    const workers = await Promise.all(
      Array.from({ length: 6 }, (_, n) => new ProtocolWorker(m, `previewer-${n}`).register()),
    );
    const submit = await m.api('POST', '/jobs', {
      name: 'previews',
      type: 'echo-sleep',
      settings: { tasks: workers.length },
    });
    assert.equal(submit.status, 201, JSON.stringify(submit.body));
    const held = await Promise.all(workers.map(async (worker) => ({ worker, task: (await worker.next())! })));
    for (const { task } of held) assert.equal(task.jobId, submit.body.id);
    const colours = ['#aa0000', '#00aa00', '#0000aa', '#aaaa00', '#00aaaa', '#aa00aa'];
    const images = await Promise.all(colours.map((colour) => image(colour)));

    for (let round = 0; round < 5; round++) {
      const statuses = await Promise.all(
        held.map(async ({ worker, task }, n) => {
          const response = await fetch(`${m.url}/api/v1/worker/tasks/${task.id}/preview`, {
            method: 'POST',
            headers: { ...worker.auth, 'content-type': 'image/png' },
            body: images[n]!,
          });
          return `${response.status} ${response.status === 204 ? '' : await response.text()}`;
        }),
      );
      assert.deepEqual(
        statuses,
        held.map(() => '204 '),
        `round ${round}: every preview accepted`,
      );
    }
    for (const size of ['small', 'medium', 'large']) {
      const preview = await fetch(`${m.url}/api/v1/jobs/${submit.body.id}/preview?size=${size}`);
      assert.equal(preview.status, 200);
      const meta = await sharp(Buffer.from(await preview.arrayBuffer())).metadata();
      assert.equal(meta.format, 'jpeg', `${size} is a whole JPEG`);
    }
  });

  it('stores concurrent previews of one job whole, leaving no temp files behind', async (t) => {
    const previews = new Previews(makeTempDir(t));
    const images = await Promise.all(['#102030', '#405060', '#708090', '#a0b0c0'].map((colour) => image(colour, 1600)));
    await Promise.all(images.flatMap((data) => [previews.store('job', data), previews.store('job', data)]));
    assert.deepEqual(readdirSync(join(previews.root, 'job')).sort(), ['large.jpg', 'medium.jpg', 'small.jpg']);
    const widths = await Promise.all(
      (['small', 'medium', 'large'] as const).map(
        async (size) => (await sharp((await previews.read('job', size))!).metadata()).width,
      ),
    );
    assert.deepEqual(widths, [160, 480, 1280]);
  });

  it('refuses what is not an image as invalid, and stores nothing for it', async (t) => {
    const previews = new Previews(makeTempDir(t));
    await assert.rejects(previews.store('job', Buffer.from('not an image')), InvalidImageError);
    assert.equal(await previews.read('job', 'small'), undefined);
  });
});
