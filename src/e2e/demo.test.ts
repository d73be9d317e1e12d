import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { makeTempDir } from '../testing/temp.js';
import { runKiln } from '../testing/cli.js';
import { locateFfmpeg } from '../media/ffmpeg.js';
import * as igniter from '../db/igniter.js';

test("README's main command: 48 PNGs that differ frame to frame and a demo.mp4 of 48 frames", async (t) => {
  // A demo that fails half-way must not leave its database running when the folder goes.
  const dir = makeTempDir(t, 'kiln-demo-', () => igniter.destroy(demoData).catch(() => undefined));
  const demoData = join(dir, 'out', '.kiln', 'db');
  // As a studio runs it: $KILN_HOME is the farm's home, and the demo must keep out of it.
  const studioHome = join(dir, 'studio-home');
  const run = await runKiln(['demo', '--output', join(dir, 'out')], { env: { KILN_HOME: studioHome } });
  assert.equal(run.code, 0, run.stderr + run.stdout);
  assert.equal(existsSync(studioHome), false, "the demo's farm is its own, not the studio's");
  const kilnConf = readFileSync(join(demoData, 'kiln.conf'), 'utf8');
  assert.match(kilnConf, /^listen_addresses = '127\.0\.0\.1'$/m, 'its database listens on loopback only');
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
  const left = spawnSync('pgrep', ['-f', demoData], { encoding: 'utf8' });
  assert.equal(left.stdout.trim(), '', 'the demo stopped everything it started');
});
