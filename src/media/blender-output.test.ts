import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseBlenderLine } from './blender-output.js';

describe('parseBlenderLine', () => {
  it('reads Fra lines (Blender 3.x/4.x)', () => {
    assert.deepEqual(
      parseBlenderLine(
        'Fra:12 Mem:9.04M (Peak 10.83M) | Time:00:00.01 | Mem:0.00M, Peak:0.00M | Scene, ViewLayer | Synchronizing object | Cube',
      ),
      { kind: 'frame', frame: 12, status: 'Cube' },
    );
    assert.deepEqual(
      parseBlenderLine(
        'Fra:1 Mem:10.02M (Peak 10.83M) | Time:00:00.05 | Mem:0.84M, Peak:0.84M | Scene, ViewLayer | Finished',
      ),
      { kind: 'frame', frame: 1, status: 'Finished' },
    );
    assert.deepEqual(parseBlenderLine('Fra:250 Mem:12.00M (Peak 12.00M) | Time:00:01.00'), {
      kind: 'frame',
      frame: 250,
    });
    assert.deepEqual(parseBlenderLine('Fra:7'), { kind: 'frame', frame: 7 });
    assert.deepEqual(parseBlenderLine('Fra:3 Mem:5.00M (0.00M, Peak 6.00M) | Time:00:00.10 | Preparing Scene data\r'), {
      kind: 'frame',
      frame: 3,
      status: 'Preparing Scene data',
    });
    // The built-in renderer's lines.
    assert.deepEqual(parseBlenderLine('Fra:10 | Kiln built-in renderer | 160x90 | scene default | Frame 4/4'), {
      kind: 'frame',
      frame: 10,
      status: 'Frame 4/4',
    });
    assert.equal(parseBlenderLine('Fra:x Mem:1M'), undefined);
    assert.equal(parseBlenderLine('Frames: 12'), undefined);
  });

  it('reads sample progress (Cycles) and sample counts (EEVEE, Workbench)', () => {
    assert.deepEqual(
      parseBlenderLine(
        'Fra:1 Mem:9.99M (Peak 10.83M) | Time:00:00.06 | Remaining:00:00.00 | Mem:0.84M, Peak:0.84M | Scene, ViewLayer | Sample 1/4',
      ),
      { kind: 'progress', frame: 1, fraction: 0.25, done: 1, total: 4, unit: 'samples' },
    );
    assert.deepEqual(parseBlenderLine('Sample 3/16'), {
      kind: 'progress',
      fraction: 3 / 16,
      done: 3,
      total: 16,
      unit: 'samples',
    });
    assert.deepEqual(
      parseBlenderLine(
        'Fra:1 Mem:9.90M (Peak 10.83M) | Time:00:00.05 | Mem:0.76M, Peak:0.76M | Scene, ViewLayer | Sample 0/4',
      ),
      {
        kind: 'progress',
        frame: 1,
        fraction: 0,
        done: 0,
        total: 4,
        unit: 'samples',
      },
    );
    assert.deepEqual(parseBlenderLine('Fra:5 Mem:120.50M (Peak 130.00M) | Time:00:00.64 | Rendering 16 / 64 samples'), {
      kind: 'progress',
      frame: 5,
      fraction: 0.25,
      done: 16,
      total: 64,
      unit: 'samples',
    });
  });

  it('reads tile progress', () => {
    assert.deepEqual(parseBlenderLine('Rendered 2/4 Tiles'), {
      kind: 'progress',
      fraction: 0.5,
      done: 2,
      total: 4,
      unit: 'tiles',
    });
    const tile = parseBlenderLine(
      'Fra:1 Mem:9.96M (Peak 10.83M) | Time:00:00.05 | Remaining:00:00.02 | Mem:0.81M, Peak:0.81M | Scene, ViewLayer | Rendered 2/12 Tiles, Sample 1/4',
    );
    assert.deepEqual(tile, {
      kind: 'progress',
      frame: 1,
      fraction: (2 + 0.25) / 12,
      done: 2,
      total: 12,
      unit: 'tiles',
    });
    assert.equal((parseBlenderLine('Fra:1 | Rendered 12/12 Tiles, Sample 4/4') as { fraction: number }).fraction, 1);
    // Blender 2.7x-2.93.
    assert.deepEqual(
      parseBlenderLine(
        'Fra:1 Mem:12.00M (0.00M, Peak 14.00M) | Time:00:02.00 | Remaining:00:01.00 | Mem:3.00M, Peak:3.00M | Scene, RenderLayer | Path Tracing Tile 8/16, Sample 8/16',
      ),
      {
        kind: 'progress',
        frame: 1,
        fraction: 8.5 / 16,
        done: 8,
        total: 16,
        unit: 'tiles',
      },
    );
  });

  it('reads Saved lines with or without quotes', () => {
    assert.deepEqual(parseBlenderLine("Saved: '/tmp/bl/out/f_0001.png'"), {
      kind: 'saved',
      path: '/tmp/bl/out/f_0001.png',
    });
    assert.deepEqual(parseBlenderLine('Saved: "/tmp/with space/f_0001.png"'), {
      kind: 'saved',
      path: '/tmp/with space/f_0001.png',
    });
    assert.deepEqual(parseBlenderLine('Saved: /tmp/x.png'), { kind: 'saved', path: '/tmp/x.png' });
    assert.deepEqual(parseBlenderLine("Saved: 'C:\\renders\\it's here_0001.png'\r"), {
      kind: 'saved',
      path: "C:\\renders\\it's here_0001.png",
    });
    // Blender 2.7x: timing on the same line.
    assert.deepEqual(parseBlenderLine('Saved: /tmp/x_0001.png Time: 00:00.57 (Saving: 00:00.00)'), {
      kind: 'saved',
      path: '/tmp/x_0001.png',
    });
    assert.equal(parseBlenderLine('Saved:'), undefined);
    // Not a saved frame: the timing line after it, and "Info: Saved" from saving a .blend.
    assert.equal(parseBlenderLine(' Time: 00:00.20 (Saving: 00:00.15)'), undefined);
    assert.equal(parseBlenderLine('Info: Saved "scene.blend"'), undefined);
  });

  it('reads Error lines', () => {
    assert.deepEqual(parseBlenderLine("Error: Cannot read file '/tmp/bl/missing.blend': No such file or directory"), {
      kind: 'error',
      message: "Cannot read file '/tmp/bl/missing.blend': No such file or directory",
    });
    assert.deepEqual(parseBlenderLine('Error: Build without OpenImageDenoiser'), {
      kind: 'error',
      message: 'Build without OpenImageDenoiser',
    });
    assert.deepEqual(parseBlenderLine('Error: Python: Traceback (most recent call last):'), {
      kind: 'error',
      message: 'Python: Traceback (most recent call last):',
    });
    assert.deepEqual(
      parseBlenderLine('ERROR (bke.modifier): source/blender/blenkernel/intern/modifier.cc:1 BKE_x: oops'),
      {
        kind: 'error',
        message: 'bke.modifier: source/blender/blenkernel/intern/modifier.cc:1 BKE_x: oops',
      },
    );
  });

  it('ignores everything else', () => {
    for (const line of [
      '',
      'Blender 3.4.1',
      'Read blend: /tmp/bl/scene.blend',
      'Blender quit',
      'Warning: something',
      'Finished: 4 frames in 0.05 s (11.3 ms per frame)',
      'Append frame 1',
    ]) {
      assert.equal(parseBlenderLine(line), undefined, line);
    }
  });
});
