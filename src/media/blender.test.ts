import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { UserError } from '../util/errors.js';
import { parseBlenderLine, type BlenderLine } from './blender-output.js';
import { blenderFrameList, buildBlenderArgs, locateBlender } from './blender.js';
import { LineSplitter } from './lines.js';

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-blender-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('buildBlenderArgs', () => {
  it('puts output and format before -f, which renders at once', () => {
    assert.deepEqual(
      buildBlenderArgs({ blendFile: '/p/shot.blend', frames: [1, 2, 3], output: '/r/f_####', format: 'PNG' }),
      ['-b', '/p/shot.blend', '-o', '/r/f_####', '-F', 'PNG', '-x', '1', '-f', '1..3'],
    );
  });

  it('adds extra args before the output options and script args after --', () => {
    assert.deepEqual(
      buildBlenderArgs({
        blendFile: 'shot.blend',
        frames: [5, 1],
        output: '//render/f_####',
        format: 'open_exr',
        args: ['-E', 'CYCLES', '-t', '2', '--python', 'setup.py', '--', '--quality', 'high'],
      }),
      [
        '-b',
        'shot.blend',
        '-E',
        'CYCLES',
        '-t',
        '2',
        '--python',
        'setup.py',
        '-o',
        '//render/f_####',
        '-F',
        'OPEN_EXR',
        '-x',
        '1',
        '-f',
        '1,5',
        '--',
        '--quality',
        'high',
      ],
    );
    assert.deepEqual(buildBlenderArgs({ blendFile: '-odd.blend', frames: [0], output: '-out_####' }).slice(0, 4), [
      '-b',
      './-odd.blend',
      '-o',
      './-out_####',
    ]);
  });

  it('refuses bad formats and frames', () => {
    assert.throws(() => buildBlenderArgs({ blendFile: 'a.blend', frames: [1], output: 'x', format: 'GIF' }), UserError);
    assert.throws(() => buildBlenderArgs({ blendFile: 'a.blend', frames: [], output: 'x' }), /no frames/);
    assert.throws(() => buildBlenderArgs({ blendFile: 'a.blend', frames: [-1], output: 'x' }), UserError);
    assert.throws(() => buildBlenderArgs({ blendFile: 'a.blend', frames: [1.5], output: 'x' }), UserError);
    assert.throws(() => buildBlenderArgs({ blendFile: '', frames: [1], output: 'x' }), UserError);
  });

  it('compacts frame lists', () => {
    assert.equal(blenderFrameList([1]), '1');
    assert.equal(blenderFrameList([2, 1]), '1,2');
    assert.equal(blenderFrameList([1, 2, 3, 5, 7, 8, 10, 11, 12, 13]), '1..3,5,7,8,10..13');
    assert.equal(blenderFrameList([3, 3, 3]), '3');
  });
});

describe('locateBlender', () => {
  it('prefers a configured program, then PATH; fails clearly', async (t) => {
    const dir = await tempDir(t);
    const fake = join(dir, 'blender');
    await writeFile(fake, '#!/bin/sh\nexit 0\n');
    await chmod(fake, 0o755);
    assert.deepEqual(locateBlender(fake), { path: fake, source: 'configured' });
    assert.deepEqual(locateBlender(undefined, { env: { PATH: dir } }), { path: fake, source: 'system' });
    assert.throws(() => locateBlender(join(dir, 'missing')), /configured blender .* does not exist/);
    assert.throws(
      () => locateBlender(undefined, { env: { PATH: join(dir, 'empty') }, standardLocations: false }),
      /Blender not found/,
    );
  });
});

function findBlender(): string | undefined {
  try {
    return locateBlender().path;
  } catch {
    return undefined;
  }
}

const blender = findBlender();

interface BlenderRun {
  code: number | null;
  lines: string[];
  parsed: BlenderLine[];
}

function runBlender(args: string[]): Promise<BlenderRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(blender as string, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    const parsed: BlenderLine[] = [];
    const onLine = (line: string): void => {
      lines.push(line);
      const result = parseBlenderLine(line);
      if (result) parsed.push(result);
    };
    const out = new LineSplitter(onLine);
    const err = new LineSplitter(onLine);
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      out.end();
      err.end();
      resolve({ code, lines, parsed });
    });
  });
}

// A tiny Cycles scene from the factory startup file (cube, camera, light). Debian's Blender is built
// without OpenImageDenoise, so denoising must be off or the render fails.
const MAKE_SCENE = `
import bpy, sys
path = sys.argv[sys.argv.index('--') + 1]
scene = bpy.context.scene
scene.render.engine = 'CYCLES'
scene.cycles.device = 'CPU'
scene.cycles.samples = 2
scene.cycles.use_denoising = False
scene.render.resolution_x = 64
scene.render.resolution_y = 36
scene.render.resolution_percentage = 100
scene.render.image_settings.file_format = 'PNG'
scene.frame_start = 1
scene.frame_end = 10
bpy.ops.wm.save_as_mainfile(filepath=path)
`;

describe('Blender renders parsed with parseBlenderLine', {
  skip: blender
    ? false
    : 'Blender is not installed (Debian: apt-get install -y blender); skipping the real Blender render tests',
  timeout: 300_000,
}, () => {
  let dir = '';
  let blendFile = '';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-blender-render-'));
    blendFile = join(dir, 'tiny.blend');
    const made = await runBlender(['-b', '--factory-startup', '--python-expr', MAKE_SCENE, '--', blendFile]);
    assert.equal(made.code, 0, made.lines.join('\n'));
    assert.ok(existsSync(blendFile), `scene not saved:\n${made.lines.join('\n')}`);
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('renders two frames: both Saved lines are seen and the files exist', async () => {
    const output = join(dir, 'two', 'frame_####');
    const args = buildBlenderArgs({ blendFile, frames: [1, 2], output, format: 'PNG' });
    assert.ok(args.includes('1,2'));
    const result = await runBlender(args);
    assert.equal(result.code, 0, result.lines.join('\n'));
    const saved = result.parsed.flatMap((p) => (p.kind === 'saved' ? [p.path] : []));
    const expected = [join(dir, 'two', 'frame_0001.png'), join(dir, 'two', 'frame_0002.png')];
    assert.deepEqual(saved, expected);
    for (const path of expected) {
      const meta = await sharp(path).metadata();
      assert.equal(meta.width, 64);
      assert.equal(meta.height, 36);
    }
    const frames = new Set(
      result.parsed.flatMap((p) =>
        p.kind === 'frame' || (p.kind === 'progress' && p.frame !== undefined) ? [p.frame] : [],
      ),
    );
    assert.deepEqual([...frames], [1, 2]);
    const samples = result.parsed.filter((p) => p.kind === 'progress' && p.unit === 'samples');
    assert.ok(
      samples.some((p) => p.kind === 'progress' && p.fraction === 1),
      'saw a finished sample count',
    );
    assert.deepEqual(
      result.parsed.filter((p) => p.kind === 'error'),
      [],
    );
  });

  it('accepts a frame list with a range (-f 3..5,7)', async () => {
    const output = join(dir, 'range', 'r_####');
    const args = buildBlenderArgs({ blendFile, frames: [7, 3, 4, 5], output });
    assert.ok(args.includes('3..5,7'));
    const result = await runBlender(args);
    assert.equal(result.code, 0, result.lines.join('\n'));
    const saved = result.parsed.flatMap((p) => (p.kind === 'saved' ? [p.path] : []));
    assert.deepEqual(
      saved,
      [3, 4, 5, 7].map((f) => join(dir, 'range', `r_000${f}.png`)),
    );
    assert.deepEqual((await readdir(join(dir, 'range'))).sort(), [
      'r_0003.png',
      'r_0004.png',
      'r_0005.png',
      'r_0007.png',
    ]);
  });

  it('reports errors: a missing .blend file', async () => {
    const result = await runBlender(
      buildBlenderArgs({ blendFile: join(dir, 'missing.blend'), frames: [1], output: join(dir, 'missing', 'm_####') }),
    );
    assert.notEqual(result.code, 0);
    const errors = result.parsed.filter((p) => p.kind === 'error');
    assert.ok(
      errors.some((p) => p.kind === 'error' && /Cannot read file/.test(p.message)),
      result.lines.join('\n'),
    );
    assert.ok(!result.parsed.some((p) => p.kind === 'saved'));
  });
});
