import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { UserError } from '../util/errors.js';
import {
  frameOutputPath,
  parseFrameList,
  renderFrame,
  renderFrames,
  type RenderEvent,
  type RenderFramesResult,
} from './render.js';
import { createPrng, hashString } from './prng.js';

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-render-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** PNG files end with the IEND chunk: its type and CRC. */
const IEND = Buffer.from([0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);

describe('renderFrame', () => {
  it('is deterministic: the same frame twice gives identical bytes', async () => {
    const a = await renderFrame({ frame: 17, width: 320, height: 180 });
    const b = await renderFrame({ frame: 17, width: 320, height: 180 });
    assert.ok(a.equals(b));
    const c = await renderFrame({ frame: 17, width: 320, height: 180, scene: 'shot-010' });
    const d = await renderFrame({ frame: 17, width: 320, height: 180, scene: 'shot-010' });
    assert.ok(c.equals(d));
  });

  it('changes over time and with the scene name', async () => {
    const frames = await Promise.all([1, 2, 3, 48].map((frame) => renderFrame({ frame, width: 320, height: 180 })));
    for (let i = 0; i < frames.length; i++) {
      for (let j = i + 1; j < frames.length; j++)
        assert.ok(!frames[i]!.equals(frames[j]!), `frames ${i} and ${j} are identical`);
    }
    // Not just a counter in a corner: a good share of the pixels move between frames a second apart.
    const [p1, p25] = await Promise.all(
      [1, 25].map((frame) =>
        renderFrame({ frame, width: 320, height: 180 }).then((png) => sharp(png).raw().toBuffer()),
      ),
    );
    let changed = 0;
    for (let i = 0; i < p1!.length; i += 3)
      if (p1![i] !== p25![i] || p1![i + 1] !== p25![i + 1] || p1![i + 2] !== p25![i + 2]) changed++;
    assert.ok(changed / (p1!.length / 3) > 0.2, `only ${changed} pixels changed`);

    const other = await renderFrame({ frame: 1, width: 320, height: 180, scene: 'another scene' });
    assert.ok(!other.equals(frames[0]!));
  });

  it('makes PNGs of the requested size', async () => {
    for (const [width, height] of [
      [1280, 720],
      [64, 36],
      [90, 160],
      [1, 1],
    ] as const) {
      const png = await renderFrame({ frame: 5, width, height });
      const meta = await sharp(png).metadata();
      assert.equal(meta.format, 'png');
      assert.equal(meta.width, width);
      assert.equal(meta.height, height);
      assert.equal(meta.channels, 3);
    }
  });

  it('refuses bad sizes and frames', async () => {
    await assert.rejects(renderFrame({ frame: 1, width: 0, height: 10 }), UserError);
    await assert.rejects(renderFrame({ frame: 1, width: 10.5, height: 10 }), UserError);
    await assert.rejects(renderFrame({ frame: 1, width: 10, height: 100_000 }), UserError);
    await assert.rejects(renderFrame({ frame: -1, width: 10, height: 10 }), UserError);
    await assert.rejects(renderFrame({ frame: Number.NaN, width: 10, height: 10 }), UserError);
    await assert.rejects(renderFrame({ frame: 1, width: 10, height: 10, scene: '' }), UserError);
  });
});

describe('renderFrames', () => {
  it('writes every frame atomically: no partial PNG is ever visible, no temp file is left', async (t) => {
    const dir = await tempDir(t);
    const outDir = join(dir, 'deep', 'er'); // created on demand
    const frames = Array.from({ length: 12 }, (_, i) => i + 1);
    const events: RenderEvent[] = [];

    // Watch the folder while rendering: every *.png that can be seen must be complete.
    let watching = true;
    let checked = 0;
    const watcher = (async () => {
      while (watching) {
        const names = await readdir(outDir).catch(() => [] as string[]);
        for (const name of names.filter((n) => n.endsWith('.png'))) {
          const bytes = await readFile(join(outDir, name));
          assert.ok(bytes.subarray(-8).equals(IEND), `${name} was visible before it was complete`);
          checked++;
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    let result: RenderFramesResult;
    try {
      result = await renderFrames(
        { frames, width: 640, height: 360, output: join(outDir, 'frame_####.png') },
        (event) => events.push(event),
      );
    } finally {
      watching = false;
      await watcher;
    }
    assert.ok(checked > 0);

    const expected = frames.map((frame) => `frame_${String(frame).padStart(4, '0')}.png`);
    assert.deepEqual((await readdir(outDir)).sort(), expected);
    assert.deepEqual(
      result.paths,
      expected.map((name) => join(outDir, name)),
    );
    for (const path of result.paths) {
      const meta = await sharp(path).metadata();
      assert.equal(meta.width, 640);
      assert.equal(meta.height, 360);
    }

    const starts = events.filter((e) => e.kind === 'frame-start');
    const saved = events.filter((e) => e.kind === 'frame-saved');
    assert.deepEqual(
      starts.map((e) => e.frame),
      frames,
    );
    assert.deepEqual(
      saved.map((e) => e.frame).sort((a, b) => a - b),
      frames,
    );
    assert.deepEqual(
      saved.map((e) => e.done),
      frames,
    ); // counts up 1..12 whatever the order
    assert.equal(saved.at(-1)?.fraction, 1);
    assert.equal(events.at(-1)?.kind, 'done');
    // Each frame's start comes before its save.
    for (const frame of frames) {
      assert.ok(
        events.findIndex((e) => e.kind === 'frame-start' && e.frame === frame) <
          events.findIndex((e) => e.kind === 'frame-saved' && e.frame === frame),
      );
    }
    // The files are what renderFrame returns.
    assert.ok((await readFile(result.paths[2]!)).equals(await renderFrame({ frame: 3, width: 640, height: 360 })));
  });

  it('replaces existing files and renders duplicate frames once', async (t) => {
    const dir = await tempDir(t);
    await writeFile(join(dir, 'f_0002.png'), 'old content');
    const events: RenderEvent[] = [];
    const result = await renderFrames(
      { frames: [2, 2, 3], width: 32, height: 18, output: join(dir, 'f_####'), concurrency: 1 },
      (e) => events.push(e),
    );
    assert.deepEqual(result.paths, [join(dir, 'f_0002.png'), join(dir, 'f_0003.png')]);
    assert.equal(events.filter((e) => e.kind === 'frame-saved').length, 2);
    assert.equal((await sharp(join(dir, 'f_0002.png')).metadata()).width, 32);
    assert.deepEqual((await readdir(dir)).sort(), ['f_0002.png', 'f_0003.png']);
  });

  it('removes the half-written temp a run killed outright left for a frame it writes again', async (t) => {
    const dir = await tempDir(t);
    // What writeFileAtomic leaves when its process gets SIGKILL mid-write; another frame's temp stays.
    await writeFile(join(dir, '.f_0004.png.56b771cd.tmp'), 'half a frame');
    await writeFile(join(dir, '.f_0009.png.0a1b2c3d.tmp'), "not this run's frame");
    await renderFrames(
      { frames: [4], width: 32, height: 18, output: join(dir, 'f_####'), concurrency: 1 },
      () => undefined,
    );
    assert.deepEqual((await readdir(dir)).sort(), ['.f_0009.png.0a1b2c3d.tmp', 'f_0004.png']);
  });

  it('stops on abort without leaving temp files', async (t) => {
    const dir = await tempDir(t);
    const controller = new AbortController();
    const frames = Array.from({ length: 200 }, (_, i) => i + 1);
    await assert.rejects(
      renderFrames(
        { frames, width: 320, height: 180, output: join(dir, 'a_####.png'), signal: controller.signal },
        (event) => {
          if (event.kind === 'frame-saved' && event.done === 3) controller.abort(new Error('stop now'));
        },
      ),
      /stop now/,
    );
    const names = await readdir(dir);
    assert.ok(names.length >= 3 && names.length < 200, `${names.length} files`);
    assert.ok(
      names.every((name) => /^a_\d{4}\.png$/.test(name)),
      names.join(', '),
    );

    const aborted = AbortSignal.abort();
    await assert.rejects(
      renderFrames({ frames: [1], width: 8, height: 8, output: join(dir, 'b_####.png'), signal: aborted }),
    );
    assert.ok(!(await readdir(dir)).some((name) => name.startsWith('b_')));
  });

  it('validates everything before writing anything', async (t) => {
    const dir = await tempDir(t);
    await assert.rejects(renderFrames({ frames: [], width: 8, height: 8, output: join(dir, 'x_####') }), /no frames/);
    await assert.rejects(
      renderFrames({ frames: [1, -2], width: 8, height: 8, output: join(dir, 'x_####') }),
      UserError,
    );
    await assert.rejects(renderFrames({ frames: [1], width: 8, height: 8, output: join(dir, 'x.png') }), /####/);
    await assert.rejects(renderFrames({ frames: [1], width: 8, height: 8, output: join(dir, 'x_####.jpg') }), /PNG/);
    await assert.rejects(
      renderFrames({ frames: [1], width: 8, height: 8, output: join(dir, 'x_####'), concurrency: 0 }),
      UserError,
    );
    assert.deepEqual(await readdir(dir), []);
  });
});

describe('frameOutputPath', () => {
  it('replaces the last # run with the zero-padded frame, like Blender', () => {
    assert.equal(frameOutputPath('/r/f_####.png', 7), '/r/f_0007.png');
    assert.equal(frameOutputPath('/r/f_####.png', 123456), '/r/f_123456.png');
    assert.equal(frameOutputPath('/r/f_######.png', 42), '/r/f_000042.png');
    assert.equal(frameOutputPath('/r/f_#.png', 42), '/r/f_42.png');
    assert.equal(frameOutputPath('/r/v##/f_####', 3), '/r/v##/f_0003.png');
    assert.equal(frameOutputPath('/r/shot.v2_####', 3), '/r/shot.v2_0003.png');
    assert.equal(frameOutputPath('/r/f_####.PNG', 3), '/r/f_0003.PNG');
    assert.throws(() => frameOutputPath('/r/f.png', 3), /####/);
    assert.throws(() => frameOutputPath('/r/f_####.exr', 3), /PNG/);
  });
});

describe('parseFrameList', () => {
  it('reads lists and ranges, sorted without duplicates', () => {
    assert.deepEqual(parseFrameList('1,2,3'), [1, 2, 3]);
    assert.deepEqual(parseFrameList(' 5-7, 1..3 ,2, 10 '), [1, 2, 3, 5, 6, 7, 10]);
    assert.deepEqual(parseFrameList('0'), [0]);
    assert.throws(() => parseFrameList(''), /empty/);
    assert.throws(() => parseFrameList('1,a'), /"a"/);
    assert.throws(() => parseFrameList('5-1'), /backwards/);
    assert.throws(() => parseFrameList('-3'), UserError);
    assert.throws(() => parseFrameList('1.5'), UserError);
  });
});

describe('prng', () => {
  it('is seeded by the scene name', () => {
    const a = createPrng('x');
    const b = createPrng('x');
    const c = createPrng('y');
    const seqA = Array.from({ length: 5 }, () => a.next());
    assert.deepEqual(
      seqA,
      Array.from({ length: 5 }, () => b.next()),
    );
    assert.notDeepEqual(
      seqA,
      Array.from({ length: 5 }, () => c.next()),
    );
    assert.ok(seqA.every((v) => v >= 0 && v < 1));
    assert.equal(hashString(''), 0x811c9dc5);
  });
});
