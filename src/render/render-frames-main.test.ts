import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseBlenderLine, type BlenderLine } from '../media/blender-output.js';
import { LineSplitter } from '../media/lines.js';
import { renderFrame } from './render.js';

const MAIN = fileURLToPath(new URL('./render-frames-main.js', import.meta.url));

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-render-main-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string[];
  stderr: string;
}

function run(
  args: string[],
  { onLine, cwd }: { onLine?: (line: string, child: ReturnType<typeof spawn>) => void; cwd?: string } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(cwd ? { cwd } : {}),
    });
    const stdout: string[] = [];
    let stderr = '';
    const lines = new LineSplitter((line) => {
      stdout.push(line);
      onLine?.(line, child);
    });
    child.stdout.on('data', (chunk: Buffer) => lines.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      lines.end();
      resolve({ code, signal, stdout, stderr });
    });
  });
}

describe('render-frames-main', () => {
  it('prints Blender-like Fra and Saved lines that the Blender parser reads', async (t) => {
    const dir = await tempDir(t);
    const result = await run([
      '--frames',
      '1,2,3,10',
      '--width',
      '160',
      '--height',
      '90',
      '--output',
      join(dir, 'out', 'f_####.png'),
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    const parsed = result.stdout.map(parseBlenderLine).filter((p): p is BlenderLine => p !== undefined);
    const frames = parsed.flatMap((p) => (p.kind === 'frame' ? [p.frame] : []));
    const saved = parsed.flatMap((p) => (p.kind === 'saved' ? [p.path] : []));
    assert.deepEqual(frames, [1, 2, 3, 10]);
    const expected = [1, 2, 3, 10].map((f) => join(dir, 'out', `f_${String(f).padStart(4, '0')}.png`));
    assert.deepEqual([...saved].sort(), expected);
    assert.ok(!parsed.some((p) => p.kind === 'error'));
    for (const path of expected) assert.ok(existsSync(path), path);
    assert.match(result.stdout.at(-1) ?? '', /^Finished: 4 frames in [\d.]+ s/);
    // Every Saved line follows its own Fra line.
    for (const [i, path] of expected.entries()) {
      const fra = result.stdout.findIndex((line) => line.startsWith(`Fra:${[1, 2, 3, 10][i]} `));
      const sav = result.stdout.indexOf(`Saved: '${path}'`);
      assert.ok(fra >= 0 && sav > fra, `Fra/Saved order for ${path}`);
    }
    // Same bytes as rendering in this process: deterministic across processes.
    assert.ok((await readFile(expected[1]!)).equals(await renderFrame({ frame: 2, width: 160, height: 90 })));
    assert.deepEqual((await readdir(join(dir, 'out'))).length, 4);
  });

  it('accepts ranges, a scene and a relative output', async (t) => {
    const dir = await tempDir(t);
    const result = await run(
      [
        '--frames',
        '4..6',
        '--width',
        '32',
        '--height',
        '18',
        '--scene',
        'shot-7',
        '--concurrency',
        '1',
        '--output',
        'rel/x_##',
      ],
      { cwd: dir },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual((await readdir(join(dir, 'rel'))).sort(), ['x_04.png', 'x_05.png', 'x_06.png']);
    // Saved lines carry absolute paths, in order with one lane.
    assert.deepEqual(
      result.stdout.filter((line) => line.startsWith('Saved:')),
      [4, 5, 6].map((f) => `Saved: '${join(dir, 'rel', `x_0${f}.png`)}'`),
    );
    assert.ok(
      (await readFile(join(dir, 'rel', 'x_05.png'))).equals(
        await renderFrame({ frame: 5, width: 32, height: 18, scene: 'shot-7' }),
      ),
    );
  });

  it('exits non-zero with one line on bad arguments, writing nothing', async (t) => {
    const dir = await tempDir(t);
    const out = join(dir, 'f_####.png');
    const cases: [string[], RegExp][] = [
      [['--width', '10', '--height', '10', '--output', out], /missing --frames/],
      [['--frames', '1', '--height', '10', '--output', out], /missing --width/],
      [['--frames', '1', '--width', 'abc', '--height', '10', '--output', out], /--width must be a whole number/],
      [['--frames', '1', '--width', '0', '--height', '10', '--output', out], /width must be a whole number from 1/],
      [['--frames', '1', '--width', '10', '--height', '10'], /missing --output/],
      [['--frames', '1', '--width', '10', '--height', '10', '--output', join(dir, 'f.png')], /####/],
      [['--frames', '1,x', '--width', '10', '--height', '10', '--output', out], /not a frame/],
      [['--frames', '1', '--width', '10', '--height', '10', '--output', out, '--bogus'], /unknown option --bogus/],
      [['--frames', '1', '--width', '10', '--height', '10', '--output', out, 'extra'], /unexpected argument "extra"/],
      [['--frames'], /argument missing/],
    ];
    await Promise.all(
      cases.map(async ([args, message]) => {
        const result = await run(args);
        assert.equal(result.code, 2, `${args.join(' ')}: exit ${result.code}`);
        assert.match(result.stderr, message);
        assert.match(result.stderr, /^render-frames: [^\n]+\n$/, `one line: ${JSON.stringify(result.stderr)}`);
        assert.deepEqual(result.stdout, []);
      }),
    );
    assert.deepEqual(await readdir(dir), []);
  });

  it('stops cleanly on SIGTERM: exit 143, only complete frames on disk', async (t) => {
    const dir = await tempDir(t);
    let sent = false;
    const result = await run(
      ['--frames', '1-500', '--width', '640', '--height', '360', '--output', join(dir, 'f_####.png')],
      {
        onLine: (line, child) => {
          if (!sent && line.startsWith('Saved:')) {
            sent = true;
            child.kill('SIGTERM');
          }
        },
      },
    );
    assert.equal(result.code, 143, result.stderr);
    assert.match(result.stderr, /stopped/);
    const names = await readdir(dir);
    assert.ok(names.length >= 1 && names.length < 500, `${names.length} files`);
    assert.ok(
      names.every((name) => /^f_\d{4}\.png$/.test(name)),
      names.join(', '),
    );
  });
});
