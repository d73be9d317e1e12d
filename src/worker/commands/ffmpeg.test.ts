import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sequenceToVideoCommand, toFfmpegPattern } from '../../jobs/ffmpeg.js';
import { runFfmpeg } from './ffmpeg.js';
import { runRenderFrames } from './render-frames.js';
import { recordingContext } from './testing.js';
import { CommandAbortedError, CommandError } from './types.js';

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-ffmpeg-cmd-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('ffmpeg command', () => {
  it('encodes rendered frames to an MP4 with progress from time=', async (t) => {
    const dir = await tempDir(t);
    const pattern = join(dir, 'frames', 'frame_####.png');
    const frames = Array.from({ length: 12 }, (_, index) => index + 1);
    await runRenderFrames({ frames, width: 160, height: 90, output: pattern }, recordingContext().context);

    const output = join(dir, 'out.mp4');
    // The command the render job type sends, as the worker gets it.
    const command = sequenceToVideoCommand({ input: toFfmpegPattern(pattern), output, fps: 24, frames });
    assert.equal(command.name, 'ffmpeg');
    const parameters = command.parameters as { args: string[] };
    const { context, record } = recordingContext();
    await runFfmpeg({ args: parameters.args, durationSeconds: 0.5, output }, context);

    assert.ok((await stat(output)).size > 0);
    const partial = record.progress.filter((value) => value > 0 && value < 1);
    assert.ok(partial.length > 0 || record.progress.includes(1), `progress: ${record.progress.join(', ')}`);
    assert.ok(
      record.progress.some((value) => value > 0.5),
      `progress from time= against the duration: ${record.progress.join(', ')}`,
    );
    assert.equal(record.progress.at(-1), 1);
    assert.ok(
      record.logs.some((line) => /time=/.test(line)),
      'the last stats line is in the log',
    );
    assert.ok(
      record.activities.some((text) => /^ffmpeg: 00:00:00/.test(text)),
      record.activities.join('\n'),
    );
  });

  it('takes the duration from the input when the job gives none', async (t) => {
    const dir = await tempDir(t);
    const source = join(dir, 'source.mp4');
    await runFfmpeg(
      {
        args: ['-nostdin', '-y', '-f', 'lavfi', '-i', 'testsrc=duration=2:size=64x48:rate=25', '-c:v', 'mpeg4', source],
        output: source,
      },
      recordingContext().context,
    );
    const output = join(dir, 'transcoded.mp4');
    const { context, record } = recordingContext();
    await runFfmpeg({ args: ['-nostdin', '-y', '-i', source, '-c:v', 'mpeg4', '-q:v', '5', output], output }, context);
    assert.ok((await stat(output)).size > 0);
    assert.ok(record.logs.some((line) => /Duration: 00:00:02/.test(line)));
    assert.ok(
      record.progress.some((value) => value > 0.5 && value < 1) ||
        record.progress.filter((value) => value === 1).length >= 2,
      `progress: ${record.progress.join(', ')}`,
    );
  });

  it('fails on ffmpeg errors with its exit code, and stops when aborted', async (t) => {
    const dir = await tempDir(t);
    const { context, record } = recordingContext();
    await assert.rejects(
      runFfmpeg({ args: ['-nostdin', '-i', join(dir, 'missing.png'), join(dir, 'x.mp4')] }, context),
      (error: unknown) => {
        assert.ok(error instanceof CommandError);
        assert.match(error.message, /ffmpeg exited with code 1/);
        return true;
      },
    );
    assert.ok(record.logs.some((line) => /No such file or directory/.test(line)));

    const long = recordingContext();
    const running = runFfmpeg(
      {
        args: [
          '-nostdin',
          '-y',
          '-f',
          'lavfi',
          '-i',
          'testsrc=duration=600:size=640x360:rate=25',
          '-c:v',
          'mpeg4',
          join(dir, 'long.mp4'),
        ],
      },
      long.context,
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    const started = Date.now();
    long.controller.abort();
    await assert.rejects(running, CommandAbortedError);
    assert.ok(Date.now() - started < 2000);
  });
});
