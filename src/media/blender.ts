/**
 * Blender: finding the program and building its command line for background renders.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import { platformOf } from '../util/platform.js';
import { findConfiguredProgram, findExecutable, isExecutableFile } from './executables.js';
import type { LocatedProgram } from './ffmpeg.js';

export type BlenderSource = 'configured' | 'system' | 'standard location';

export interface LocateBlenderOptions {
  /** Environment whose PATH is searched (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Also look in the platform's usual install folders (default true). */
  standardLocations?: boolean;
}

/** Where Blender's installers put it when it is not on PATH. */
function standardLocations(): string[] {
  switch (platformOf()) {
    case 'darwin':
      return ['/Applications/Blender.app/Contents/MacOS/Blender'];
    case 'windows': {
      const root = join(process.env.ProgramFiles ?? 'C:\\Program Files', 'Blender Foundation');
      if (!existsSync(root)) return [];
      try {
        // "Blender 4.2", "Blender 3.6"...: newest first.
        return readdirSync(root)
          .filter((name) => /^Blender/i.test(name))
          .sort((a, b) => b.localeCompare(a, 'en', { numeric: true }))
          .map((name) => join(root, name, 'blender.exe'));
      } catch {
        return [];
      }
    }
    default:
      return ['/snap/bin/blender', '/opt/blender/blender', '/usr/local/blender/blender'];
  }
}

/**
 * Finds Blender: the configured program (a path, or a name looked up in PATH) if given, else
 * `blender` on PATH, else the platform's usual install location. A configured program that is
 * missing is an error, not a reason to fall back.
 */
export function locateBlender(configured?: string, options: LocateBlenderOptions = {}): LocatedProgram<BlenderSource> {
  const env = options.env ?? process.env;
  const wanted = configured?.trim();
  if (wanted) return { path: findConfiguredProgram('blender', wanted, env), source: 'configured' };
  const onPath = findExecutable('blender', env);
  if (onPath) return { path: onPath, source: 'system' };
  if (options.standardLocations !== false) {
    const found = standardLocations().find(isExecutableFile);
    if (found) return { path: found, source: 'standard location' };
  }
  throw new UserError(
    'Blender not found: no blender in PATH or the usual install folders; install Blender or configure its path',
    {
      code: 'not-found',
      field: 'blender',
    },
  );
}

/** Output formats Blender's `-F` accepts. */
const BLENDER_FORMATS = [
  'TGA',
  'RAWTGA',
  'JPEG',
  'IRIS',
  'IRIZ',
  'AVIRAW',
  'AVIJPEG',
  'PNG',
  'BMP',
  'HDR',
  'TIFF',
  'OPEN_EXR',
  'OPEN_EXR_MULTILAYER',
  'MPEG',
  'CINEON',
  'DPX',
  'DDS',
  'JP2',
  'WEBP',
] as const;
type BlenderFormat = (typeof BLENDER_FORMATS)[number];

export interface BlenderArgsOptions {
  /** The .blend file to render. */
  blendFile: string;
  /** Frames to render (whole numbers from 0); sorted, deduplicated and sent as one `-f` list. */
  frames: readonly number[];
  /** Output pattern for `-o`: `#` runs become the frame number, `//` is relative to the .blend. */
  output: string;
  /** `-F` output format (default PNG). */
  format?: BlenderFormat | string;
  /**
   * Extra arguments, placed after the .blend file and before the output and frame options (e.g.
   * `-E CYCLES`, `-t 4`, `--python script.py`). Anything from a `--` on is for Python scripts and
   * goes last, since Blender reads no options after `--`.
   */
  args?: readonly string[];
}

/** Blender's largest frame number (MAXFRAME). */
const MAX_FRAME = 1_048_574;

/**
 * Formats frames for Blender's `-f`: comma list, runs of three or more as `first..last`
 * (`[1,2,3,5,7,8]` gives `1..3,5,7,8`). Blender 2.80 and later accept both forms.
 */
export function blenderFrameList(frames: readonly number[]): string {
  const sorted = [...new Set(frames)].sort((a, b) => a - b);
  if (sorted.length === 0) throw new UserError('no frames to render', { field: 'frames' });
  for (const frame of sorted) {
    // Blender reads "-N" as "N frames before the end" and "+N" as relative to the start.
    if (!Number.isSafeInteger(frame) || frame < 0 || frame > MAX_FRAME) {
      throw new UserError(`frame must be a whole number from 0 to ${MAX_FRAME} (got ${String(frame)})`, {
        field: 'frames',
      });
    }
  }
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && (sorted[j + 1] as number) === (sorted[j] as number) + 1) j++;
    const first = sorted[i] as number;
    const last = sorted[j] as number;
    if (j - i >= 2) parts.push(`${first}..${last}`);
    else for (let k = i; k <= j; k++) parts.push(String(sorted[k]));
    i = j + 1;
  }
  return parts.join(',');
}

/** A path Blender could mistake for an option gets a `./` in front. */
function safePath(path: string): string {
  return path.startsWith('-') ? `./${path}` : path;
}

/**
 * Argument vector (without the program) for a background render:
 * `-b FILE [args...] -o OUTPUT -F FORMAT -x 1 -f FRAMES [-- script args...]`.
 * Order matters: Blender acts on options left to right and `-f` renders at once, so output and
 * format must come before it. `-x 1` makes Blender add the file extension, so `Saved:` paths and
 * files always have one.
 */
export function buildBlenderArgs(options: BlenderArgsOptions): string[] {
  if (options.blendFile.trim() === '') throw new UserError('blend file is empty', { field: 'blendFile' });
  if (options.output.trim() === '') throw new UserError('output pattern is empty', { field: 'output' });
  const format = (options.format ?? 'PNG').toUpperCase();
  if (!(BLENDER_FORMATS as readonly string[]).includes(format)) {
    throw new UserError(
      `unknown Blender output format "${options.format ?? ''}" (one of ${BLENDER_FORMATS.join(', ')})`,
      {
        field: 'format',
      },
    );
  }
  const extra = [...(options.args ?? [])];
  const dashDash = extra.indexOf('--');
  const before = dashDash === -1 ? extra : extra.slice(0, dashDash);
  const after = dashDash === -1 ? [] : extra.slice(dashDash);
  return [
    '-b',
    safePath(options.blendFile),
    ...before,
    '-o',
    safePath(options.output),
    '-F',
    format,
    '-x',
    '1',
    '-f',
    blenderFrameList(options.frames),
    ...after,
  ];
}
