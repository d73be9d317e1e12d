import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { PreviewUploader, loadPreview } from './previews.js';

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-previews-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const image = (width: number) =>
  sharp({ create: { width, height: 10, channels: 3, background: { r: 10, g: 120, b: 200 } } });

describe('previews', () => {
  it('sends PNG and JPEG as they are and converts other formats to JPEG', async (t) => {
    const dir = await tempDir(t);
    await image(20).png().toFile(join(dir, 'a.png'));
    await image(20).jpeg().toFile(join(dir, 'b.jpg'));
    await image(3000).tiff().toFile(join(dir, 'c.tif'));
    assert.equal((await loadPreview(join(dir, 'a.png'))).contentType, 'image/png');
    assert.equal((await loadPreview(join(dir, 'b.jpg'))).contentType, 'image/jpeg');
    const converted = await loadPreview(join(dir, 'c.tif'));
    assert.equal(converted.contentType, 'image/jpeg');
    assert.equal((await sharp(converted.data).metadata()).width, 1920);
  });

  it('sends the newest frame after the one in flight, skipping those in between, and survives failures', async (t) => {
    const dir = await tempDir(t);
    const paths = [];
    for (let index = 1; index <= 4; index++) {
      const path = join(dir, `f${index}.png`);
      await image(10 + index)
        .png()
        .toFile(path);
      paths.push(path);
    }
    const widths: number[] = [];
    let release: () => void = () => undefined;
    const uploader = new PreviewUploader(async (data) => {
      widths.push((await sharp(data).metadata()).width ?? 0);
      if (widths.length === 1) await new Promise<void>((resolve) => (release = resolve));
    });
    for (const path of paths) uploader.offer(path);
    await new Promise((resolve) => setTimeout(resolve, 100));
    release();
    await uploader.close();
    assert.deepEqual(widths, [11, 14]);
    assert.equal(uploader.sent, 2);

    let calls = 0;
    const failing = new PreviewUploader(async () => {
      calls++;
      throw new Error('manager unreachable');
    });
    failing.offer(join(dir, 'missing.png')); // unreadable: skipped
    await failing.close();
    failing.offer(paths[0] as string); // after close: ignored
    assert.equal(calls, 0);
    const flaky = new PreviewUploader(async () => {
      calls++;
      throw new Error('manager unreachable');
    });
    flaky.offer(paths[0] as string);
    await flaky.close();
    assert.equal(calls, 1);
    assert.equal(flaky.sent, 0);
  });
});
