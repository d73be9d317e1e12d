/**
 * Kiln's built-in renderer: real PNG frames of a procedural scene, no external program.
 * Used by the worker's `render-frames` command and for demos and tests.
 */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import { UserError } from '../util/errors.js';
import { removeStaleTemps, writeFileAtomic } from '../util/fs.js';
import { assertFrame, frameOutputPath } from './frames.js';
import { sceneSvg } from './scene.js';

export { DEFAULT_SCENE } from './scene.js';
export { frameOutputPath, parseFrameList } from './frames.js';

/** Largest width or height accepted (16K). */
const MAX_DIMENSION = 16_384;
/** zlib level for the PNGs: 6 is libpng's default and a good speed/size balance for these images. */
const PNG_COMPRESSION_LEVEL = 6;

export interface RenderFrameOptions {
  frame: number;
  width: number;
  height: number;
  /** Scene name; seeds the scene's colours and layout. Default "default". */
  scene?: string;
}

export interface RenderFramesOptions {
  frames: readonly number[];
  width: number;
  height: number;
  /** Output pattern; the last run of `#` becomes the zero-padded frame number (see frameOutputPath). */
  output: string;
  scene?: string;
  /** Frames rendered at the same time (default: CPU count, at most 4). */
  concurrency?: number;
  /** Stops after the frames in flight; files not yet renamed into place are removed. */
  signal?: AbortSignal;
}

export type RenderEvent =
  /** A frame starts rendering (Blender's `Fra:N`). */
  | { kind: 'frame-start'; frame: number; index: number; total: number }
  /** A frame's file is in place (Blender's `Saved: '...'`). `done` counts saved frames so far. */
  | {
      kind: 'frame-saved';
      frame: number;
      path: string;
      index: number;
      total: number;
      done: number;
      fraction: number;
      renderMs: number;
      saveMs: number;
    }
  | { kind: 'done'; total: number; elapsedMs: number };

export interface RenderFramesResult {
  /** Absolute paths of the written files, in the order of `frames`. */
  paths: string[];
  elapsedMs: number;
}

function assertDimension(value: number, field: 'width' | 'height'): void {
  if (!Number.isSafeInteger(value) || value < 1 || value > MAX_DIMENSION) {
    throw new UserError(`${field} must be a whole number from 1 to ${MAX_DIMENSION} (got ${String(value)})`, { field });
  }
}

function assertScene(scene: string | undefined): void {
  if (scene !== undefined && (scene.length === 0 || scene.length > 200)) {
    throw new UserError('scene name must be 1 to 200 characters', { field: 'scene' });
  }
}

/**
 * Renders one frame to PNG bytes. Deterministic: the same frame, size and scene give
 * byte-identical output.
 */
export async function renderFrame(options: RenderFrameOptions): Promise<Buffer> {
  assertFrame(options.frame);
  assertDimension(options.width, 'width');
  assertDimension(options.height, 'height');
  assertScene(options.scene);
  const svg = sceneSvg(options);
  return sharp(Buffer.from(svg), { density: 72 })
    .removeAlpha()
    .png({ compressionLevel: PNG_COMPRESSION_LEVEL, adaptiveFiltering: false })
    .toBuffer();
}

/**
 * Checks renderFrames options without rendering: sizes, scene, frames, the output pattern for every
 * frame. Throws UserError; returns the unique frames, their absolute paths and the concurrency.
 */
export function checkRenderFramesOptions(options: RenderFramesOptions): {
  frames: number[];
  paths: string[];
  concurrency: number;
} {
  assertDimension(options.width, 'width');
  assertDimension(options.height, 'height');
  assertScene(options.scene);
  const frames = [...new Set(options.frames)];
  if (frames.length === 0) throw new UserError('no frames to render', { field: 'frames' });
  const paths = frames.map((frame) => resolve(frameOutputPath(options.output, frame)));
  const concurrency = options.concurrency ?? Math.min(4, availableParallelism());
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new UserError(`concurrency must be a whole number of at least 1 (got ${String(concurrency)})`, {
      field: 'concurrency',
    });
  }
  return { frames, paths, concurrency };
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new DOMException('rendering was aborted', 'AbortError');
}

/**
 * Renders frames to files: each written atomically (temp file beside it, then renamed), directories
 * created as needed, events reported as frames start and land. Duplicate frames are rendered once.
 * On an error or abort no further frames start, frames in flight finish or are discarded, and the
 * first error is thrown.
 */
export async function renderFrames(
  options: RenderFramesOptions,
  onEvent: (event: RenderEvent) => void = () => {},
): Promise<RenderFramesResult> {
  const started = performance.now();
  const { frames, paths, concurrency } = checkRenderFramesOptions(options);
  const { signal } = options;
  if (signal?.aborted) throw abortError(signal);

  const total = frames.length;
  let nextIndex = 0;
  let done = 0;
  let failure: { error: unknown } | undefined;

  const runLane = async (): Promise<void> => {
    while (!failure && nextIndex < total) {
      if (signal?.aborted) {
        failure ??= { error: abortError(signal) };
        return;
      }
      const index = nextIndex++;
      const frame = frames[index] as number;
      const path = paths[index] as string;
      try {
        onEvent({ kind: 'frame-start', frame, index, total });
        const renderStart = performance.now();
        const png = await renderFrame({ frame, width: options.width, height: options.height, scene: options.scene });
        if (signal?.aborted) throw abortError(signal);
        const saveStart = performance.now();
        // A run of this chunk killed outright may have left a half-written temp of this frame.
        await removeStaleTemps(path);
        await writeFileAtomic(path, png);
        const saved = performance.now();
        done++;
        onEvent({
          kind: 'frame-saved',
          frame,
          path,
          index,
          total,
          done,
          fraction: done / total,
          renderMs: saveStart - renderStart,
          saveMs: saved - saveStart,
        });
      } catch (error) {
        failure ??= { error };
        return;
      }
    }
  };

  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, runLane));
  if (failure) throw failure.error;
  const elapsedMs = performance.now() - started;
  onEvent({ kind: 'done', total, elapsedMs });
  return { paths, elapsedMs };
}
