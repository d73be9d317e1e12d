import { Type, type Static, type TObject } from '@sinclair/typebox';

/**
 * The contract between the manager (which compiles a submitted job into tasks), the job types
 * (which do the compiling) and the worker (which runs each task's commands in order).
 *
 * Command parameter objects refuse unknown keys: a worker that does not understand a parameter
 * should fail the task loudly rather than run it half-understood and write the wrong output.
 */

/** Blender's largest frame number (MAXFRAME); the built-in renderer follows Blender. */
export const MAX_RENDER_FRAME = 1_048_574;

const Frames = Type.Array(Type.Integer({ minimum: 0, maximum: MAX_RENDER_FRAME }), { minItems: 1 });
const Path = Type.String({ minLength: 1 });
const strict = { additionalProperties: false } as const;

/** Runs a program with an argument vector, never through a shell. */
const ExecParameters = Type.Object(
  {
    argv: Type.Array(Type.String(), {
      minItems: 1,
      description: 'program and arguments; argv[0] is looked up on PATH',
    }),
    cwd: Type.Optional(Path),
    env: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'added to the worker environment' })),
  },
  strict,
);

/** Kiln's built-in renderer: real images, no external program. */
const RenderFramesParameters = Type.Object(
  {
    frames: Frames,
    width: Type.Integer({ minimum: 1, maximum: 16384 }),
    height: Type.Integer({ minimum: 1, maximum: 16384 }),
    output: Type.String({
      pattern: '#',
      description:
        "path pattern; the last run of '#' becomes the zero-padded frame number ('####': at least 4 digits), e.g. /out/frames/frame_####.png",
    }),
    scene: Type.Optional(Type.String()),
  },
  strict,
);

const BlenderFormat = Type.Union([Type.Literal('PNG'), Type.Literal('JPEG'), Type.Literal('OPEN_EXR')]);

/**
 * Blender in background mode. The worker runs
 * `[exe ?? 'blender', '-b', blendFile, ...args, '-o', output, '-F', format, '-f', frames]`
 * (frames as Blender's comma list); progress comes from Blender's output and each `Saved:` file
 * becomes a preview.
 */
const BlenderParameters = Type.Object(
  {
    exe: Type.Optional(Path),
    blendFile: Path,
    frames: Frames,
    output: Type.String({
      minLength: 1,
      description: "Blender -o pattern; a run of '#' becomes the zero-padded frame number",
    }),
    format: BlenderFormat,
    args: Type.Optional(
      Type.Array(Type.String(), {
        description: 'extra arguments after the blend file and before -o/-f, e.g. ["-S", "Scene"]',
      }),
    ),
  },
  strict,
);

/** ffmpeg; progress from `time=` against `durationSeconds` when known. */
const FfmpegParameters = Type.Object(
  {
    args: Type.Array(Type.String(), { minItems: 1, description: 'everything after the ffmpeg program name' }),
    durationSeconds: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, description: 'length of the output, for % progress' }),
    ),
    output: Type.Optional(Path),
  },
  strict,
);

const CopyFileParameters = Type.Object({ src: Path, dest: Path }, strict);
const MoveDirectoryParameters = Type.Object({ src: Path, dest: Path }, strict);
const MakeDirectoryParameters = Type.Object({ path: Path }, strict);
const EchoParameters = Type.Object({ message: Type.String() }, strict);
const SleepParameters = Type.Object({ seconds: Type.Number({ minimum: 0 }) }, strict);

const command = <N extends string, P extends TObject>(name: N, parameters: P) =>
  Type.Object({ name: Type.Literal(name), parameters }, strict);

/** What the worker validates every command against before running it. */
export const CommandSchema = Type.Union([
  command('exec', ExecParameters),
  command('render-frames', RenderFramesParameters),
  command('blender', BlenderParameters),
  command('ffmpeg', FfmpegParameters),
  command('copy-file', CopyFileParameters),
  command('move-directory', MoveDirectoryParameters),
  command('make-directory', MakeDirectoryParameters),
  command('echo', EchoParameters),
  command('sleep', SleepParameters),
]);

export type Command = Static<typeof CommandSchema>;
export type CommandName = Command['name'];
export type CommandParameters<N extends CommandName> = Extract<Command, { name: N }>['parameters'];

/** Builds a command with its parameters checked by the type system. */
export function makeCommand<N extends CommandName>(name: N, parameters: CommandParameters<N>): Command {
  return { name, parameters } as Command;
}

/** Task types the built-in job types produce; workers declare which ones they run. */
export const TaskType = { render: 'render', video: 'video', misc: 'misc' } as const;

/** A job's or task's priority when none is given (0-100, higher first). */
export const DEFAULT_PRIORITY = 50;

export const CompiledTaskSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    type: Type.String({
      minLength: 1,
      description: "task type, e.g. 'render', 'video', 'misc'; workers declare which they support",
    }),
    priority: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 100, description: `higher first; default ${DEFAULT_PRIORITY}` }),
    ),
    commands: Type.Array(CommandSchema, { minItems: 1 }),
    dependsOn: Type.Array(Type.Integer({ minimum: 0 }), {
      description: 'indices of earlier tasks in the same compiled list',
    }),
  },
  strict,
);

/**
 * One task of a compiled job. `dependsOn` holds indices into the returned array, and only of
 * earlier tasks, so the list is always in an order the scheduler can run (no cycles possible).
 */
export interface CompiledTask {
  name: string;
  /** Task type, e.g. 'render', 'video', 'misc'; workers declare which they support. */
  type: string;
  /** 0-100, higher first; default 50. Orders tasks within one job. */
  priority?: number;
  /** Run in order; the task fails at the first command that fails. */
  commands: Command[];
  /** Indices of earlier tasks in the same compiled array that must complete first. */
  dependsOn: number[];
}

/** A submitted job as a job type sees it. `settings` have been validated, defaults applied. */
export interface JobToCompile<S = Record<string, unknown>> {
  id: string;
  name: string;
  type: string;
  priority: number;
  settings: S;
  /** Frame range text, e.g. "1-250" or "1..10, 20". */
  frames?: string;
  /** Frames per task; each job type has its own default. */
  chunkSize?: number;
  /** Where the job's files live on shared storage (direct, copied or Shaman checkout). */
  storage?: { effectivePath?: string };
}

export interface JobType {
  /** Lower-case words joined by '-', e.g. 'frames-to-video'. */
  readonly name: string;
  /** For people, e.g. 'Frames to video'. */
  readonly label: string;
  readonly description: string;
  /** The settings a submission carries; its JSON is the source of the type's etag. */
  readonly settingsSchema: TObject;
  /**
   * Rules the schema cannot say (one setting required when another has a value). Runs after
   * the schema check, defaults applied; throws a UserError whose field is `settings.<key>`.
   */
  checkSettings?(settings: Record<string, unknown>): void;
  /** Pure: the same job gives the same tasks. Throws UserError for a job it cannot compile. */
  compile(job: JobToCompile): CompiledTask[];
}
