import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { makeTempDir, freePort } from '../testing/temp.js';
import { runKiln } from '../testing/cli.js';
import { locateFfmpeg } from '../media/ffmpeg.js';
import * as igniter from '../db/igniter.js';

test("README's main command: 48 PNGs that differ frame to frame and a demo.mp4 of 48 frames", async (t) => {
  // A demo that fails half-way must not leave its database running when the folder goes.
  const dir = makeTempDir(t, 'kiln-demo-', () => igniter.destroy(join(dir, 'home', 'db')).catch(() => undefined));
  const run = await runKiln(['demo', '--home', join(dir, 'home'), '--output', join(dir, 'out')], {
    env: { KILN_DB_PORT: String(await freePort()), KILN_DB_LISTEN: '127.0.0.1' },
  });
  assert.equal(run.code, 0, run.stderr + run.stdout);
  assert.match(run.stdout, /48 frames in .*demo\.mp4/);
  const frames = readdirSync(join(dir, 'out', 'frames')).filter((name) => name.endsWith('.png'));
  assert.equal(frames.length, 48);
  const hashes = new Set(
    frames.map((name) =>
      createHash('sha256')
        .update(readFileSync(join(dir, 'out', 'frames', name)))
        .digest('hex'),
    ),
  );
  assert.equal(hashes.size, 48, 'every frame differs from the others');
  const decode = spawnSync(
    locateFfmpeg().path,
    ['-v', 'error', '-stats', '-i', join(dir, 'out', 'demo.mp4'), '-f', 'null', '-'],
    { encoding: 'utf8' },
  );
  const counted = [...decode.stderr.matchAll(/frame=\s*(\d+)/g)].map((m) => Number(m[1])).at(-1);
  assert.equal(counted, 48);
  const left = spawnSync('pgrep', ['-f', join(dir, 'home')], { encoding: 'utf8' });
  assert.equal(left.stdout.trim(), '', 'the demo stopped everything it started');
});
