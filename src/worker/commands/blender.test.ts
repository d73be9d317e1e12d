import { describe, it, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { locateBlender } from '../../media/blender.js';
import { runBlender } from './blender.js';
import { recordingContext } from './testing.js';
import { CommandError } from './types.js';

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-blender-cmd-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A stand-in Blender: prints what Blender prints for each frame of `-f` (Fra lines with samples,
 * Saved lines) and writes real PNGs where `-o` says; with the blend file "broken.blend" it prints
 * Blender's error and exits 0, as some Blender versions do.
 */
const FAKE_BLENDER = `
const fs = require('node:fs');
const path = require('node:path');
const argv = process.argv.slice(2);
const get = (flag) => argv[argv.indexOf(flag) + 1];
fs.writeFileSync(process.env.KILN_FAKE_ARGS, JSON.stringify(argv));
if (get('-b').endsWith('broken.blend')) {
  console.log("Error: Cannot read file '" + get('-b') + "': No such file or directory");
  process.exit(0);
}
const frames = get('-f').split(',').flatMap((part) => {
  const [a, b] = part.split('..').map(Number);
  return b === undefined ? [a] : Array.from({ length: b - a + 1 }, (_, i) => a + i);
});
const png = fs.readFileSync(process.env.KILN_FAKE_PNG);
for (const frame of frames) {
  for (let sample = 1; sample <= 4; sample++) console.log('Fra:' + frame + ' Mem:9.90M (Peak 10.83M) | Time:00:00.04 | Mem:0.76M, Peak:0.76M | Scene, ViewLayer | Sample ' + sample + '/4');
  const out = get('-o').replace(/#+/, (m) => String(frame).padStart(m.length, '0')) + '.png';
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, png);
  console.log("Saved: '" + out + "'");
  console.log(' Time: 00:00.05 (Saving: 00:00.00)');
}
`;

async function makeFake(dir: string): Promise<{ exe: string; env: Record<string, string> }> {
  const exe = join(dir, 'fake-blender');
  await writeFile(exe, `#!${process.execPath}\n${FAKE_BLENDER}`);
  await chmod(exe, 0o755);
  const png = join(dir, 'tiny.png');
  await sharp({ create: { width: 4, height: 4, channels: 3, background: { r: 200, g: 60, b: 20 } } })
    .png()
    .toFile(png);
  return { exe, env: { KILN_FAKE_PNG: png, KILN_FAKE_ARGS: join(dir, 'args.json') } };
}

function withEnv(env: Record<string, string>, t: TestContext): void {
  for (const [key, value] of Object.entries(env)) {
    const old = process.env[key];
    process.env[key] = value;
    t.after(() => {
      if (old === undefined) delete process.env[key];
      else process.env[key] = old;
    });
  }
}

describe('blender command (a stand-in Blender)', () => {
  it('runs Blender with the documented arguments, reports progress and previews each Saved file', async (t) => {
    const dir = await tempDir(t);
    const fake = await makeFake(dir);
    withEnv(fake.env, t);
    const { context, record } = recordingContext();
    await runBlender(
      {
        exe: fake.exe,
        blendFile: join(dir, 'shot.blend'),
        frames: [1, 2, 3, 5],
        output: join(dir, 'out', 'frame_####'),
        format: 'PNG',
        args: ['-S', 'Scene'],
      },
      context,
    );

    const { readFile } = await import('node:fs/promises');
    const argv = JSON.parse(await readFile(fake.env.KILN_FAKE_ARGS as string, 'utf8')) as string[];
    assert.deepEqual(argv, [
      '-b',
      join(dir, 'shot.blend'),
      '-S',
      'Scene',
      '-o',
      join(dir, 'out', 'frame_####'),
      '-F',
      'PNG',
      '-x',
      '1',
      '-f',
      '1..3,5',
    ]);
    assert.deepEqual(
      record.previews,
      [1, 2, 3, 5].map((frame) => join(dir, 'out', `frame_000${frame}.png`)),
    );
    const progress = record.progress;
    assert.deepEqual(
      progress,
      [...progress].sort((a, b) => a - b),
      'progress only grows',
    );
    assert.ok(progress.includes(0.125), 'half the samples of the first of four frames');
    assert.equal(progress.at(-1), 1);
  });

  it('fails when Blender prints an error and saves nothing, even with exit code 0', async (t) => {
    const dir = await tempDir(t);
    const fake = await makeFake(dir);
    withEnv(fake.env, t);
    const { context } = recordingContext();
    await assert.rejects(
      runBlender(
        {
          exe: fake.exe,
          blendFile: join(dir, 'broken.blend'),
          frames: [1],
          output: join(dir, 'o_####'),
          format: 'PNG',
        },
        context,
      ),
      (error: unknown) => error instanceof CommandError && /Cannot read file/.test(error.message),
    );
    await assert.rejects(
      runBlender(
        {
          exe: join(dir, 'no-blender-here'),
          blendFile: join(dir, 'x.blend'),
          frames: [1],
          output: join(dir, 'o_####'),
          format: 'PNG',
        },
        recordingContext().context,
      ),
      (error: unknown) => error instanceof CommandError && /does not exist/.test(error.message),
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
bpy.ops.wm.save_as_mainfile(filepath=path)
`;

describe('blender command (real Blender)', {
  skip: blender ? false : 'Blender is not installed; skipping the real Blender test',
  timeout: 300_000,
}, () => {
  let dir = '';
  let blendFile = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-blender-cmd-real-'));
    blendFile = join(dir, 'tiny.blend');
    const made = spawnSync(
      blender as string,
      ['-b', '--factory-startup', '--python-expr', MAKE_SCENE, '--', blendFile],
      { encoding: 'utf8' },
    );
    assert.ok(existsSync(blendFile), `${made.stdout}\n${made.stderr}`);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('renders two frames, each a preview, with progress to 1', async () => {
    const { context, record } = recordingContext();
    await runBlender({ blendFile, frames: [1, 2], output: join(dir, 'out', 'frame_####'), format: 'PNG' }, context);
    const expected = [1, 2].map((frame) => join(dir, 'out', `frame_000${frame}.png`));
    assert.deepEqual(record.previews, expected);
    for (const path of expected) assert.equal((await sharp(path).metadata()).width, 64);
    assert.equal(record.progress.at(-1), 1);
    assert.ok(record.progress.some((value) => value > 0 && value < 1));
  });
});
