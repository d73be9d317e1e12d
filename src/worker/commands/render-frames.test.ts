import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { waitFor } from '../../util/time.js';
import { RENDER_FRAMES_MAIN, runRenderFrames } from './render-frames.js';
import { recordingContext } from './testing.js';
import { CommandAbortedError, CommandError } from './types.js';

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-render-cmd-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('render-frames command', () => {
  it('finds the renderer entry next to the worker', () => {
    assert.ok(existsSync(RENDER_FRAMES_MAIN), RENDER_FRAMES_MAIN);
  });

  it('renders real PNGs in a child process, reports progress and each frame as a preview', async (t) => {
    const dir = await tempDir(t);
    const { context, record } = recordingContext();
    await runRenderFrames(
      { frames: [3, 1, 2, 10], width: 96, height: 54, output: join(dir, 'frames', 'frame_####.png') },
      context,
    );

    const expected = [1, 2, 3, 10].map((frame) => join(dir, 'frames', `frame_${String(frame).padStart(4, '0')}.png`));
    // The renderer works on several frames at once, so they may finish in any order.
    assert.deepEqual([...record.previews].sort(), expected);
    for (const path of expected) {
      const meta = await sharp(path).metadata();
      assert.equal(meta.format, 'png');
      assert.equal(meta.width, 96);
      assert.equal(meta.height, 54);
    }
    const progress = record.progress;
    assert.equal(progress.at(-1), 1);
    assert.deepEqual(
      progress,
      [...progress].sort((a, b) => a - b),
      'progress only grows',
    );
    assert.ok(progress.includes(0.5), 'two of four frames is half way');
    assert.ok(record.logs.some((line) => line.startsWith('Fra:10')));
    assert.ok(record.activities.some((text) => /rendering frame 10/.test(text)));
  });

  it('fails with the renderer’s exit code on a bad output pattern', async (t) => {
    const dir = await tempDir(t);
    const { context, record } = recordingContext();
    await assert.rejects(
      runRenderFrames({ frames: [1], width: 8, height: 8, output: join(dir, 'frame_####.jpg') }, context),
      (error: unknown) => {
        assert.ok(error instanceof CommandError);
        assert.match(error.message, /exited with code 2/);
        return true;
      },
    );
    assert.ok(
      record.logs.some((line) => /PNG files only/.test(line)),
      record.logs.join('\n'),
    );
  });

  it('stops within 2 s when aborted mid-render', async (t) => {
    const dir = await tempDir(t);
    const { context, record, controller } = recordingContext();
    const frames = Array.from({ length: 200 }, (_, index) => index + 1);
    const running = runRenderFrames({ frames, width: 1920, height: 1080, output: join(dir, 'f_####.png') }, context);
    await waitFor(() => record.previews.length >= 1, { timeoutMs: 30_000, what: 'a first frame' });
    const started = Date.now();
    controller.abort();
    await assert.rejects(running, CommandAbortedError);
    assert.ok(Date.now() - started < 2000, `stopped after ${Date.now() - started} ms`);
    const written = await readdir(dir);
    assert.ok(written.length < 200);
    for (const name of written) assert.ok((await stat(join(dir, name))).size > 0);
  });
});
