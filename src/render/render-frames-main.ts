/**
 * Standalone entry of the built-in renderer:
 *   node dist/src/render/render-frames-main.js --frames 1,2,3 --width W --height H --output PATTERN [--scene S]
 * SIGINT/SIGTERM stop it after the frames in flight (no half-written files are left).
 */
import { runRenderFramesCli } from './render-frames-cli.js';

const controller = new AbortController();
let stoppedBy: NodeJS.Signals | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    stoppedBy = signal;
    controller.abort(new Error(`received ${signal}`));
  });
}

// A worker killed outright (SIGKILL) cannot stop its renderer: notice being orphaned
// (the parent changes) and stop too, so a requeued chunk is not rendered twice at once.
const parent = process.ppid;
const orphanWatch = setInterval(() => {
  if (process.ppid !== parent) controller.abort(new Error('the worker that started this renderer is gone'));
}, 250);
orphanWatch.unref();

const code = await runRenderFramesCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  signal: controller.signal,
});
process.exitCode = stoppedBy ? 128 + (stoppedBy === 'SIGINT' ? 2 : 15) : code;
