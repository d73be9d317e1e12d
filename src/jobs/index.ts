// The public surface of src/jobs: job types that compile a submitted job into tasks.
export {
  CommandSchema,
  CompiledTaskSchema,
  ExecParameters,
  RenderFramesParameters,
  BlenderParameters,
  BlenderFormat,
  FfmpegParameters,
  CopyFileParameters,
  MoveDirectoryParameters,
  MakeDirectoryParameters,
  EchoParameters,
  SleepParameters,
  TaskType,
  DEFAULT_PRIORITY,
  MAX_RENDER_FRAME,
  makeCommand,
} from './types.js';
export type { Command, CommandName, CommandParameters, CompiledTask, JobToCompile, JobType } from './types.js';

export { MAX_FRAMES, parseFrameRange, formatFrames, chunkFrames, splitRuns } from './frame-range.js';
export { validateSettings, parseSettings, type SettingsResult } from './settings.js';
export { defineJobType, type JobTypeDefinition } from './define.js';
export { checkCompiledTasks, JobTypeError } from './compiled-tasks.js';
export {
  JobTypeRegistry,
  createJobTypeRegistry,
  etag,
  describeJobTypeProblem,
  jobTypeKit,
  type JobTypeKit,
  type JobTypeLoadReport,
  type JobTypeSummary,
  type JobTypeDetail,
} from './registry.js';
export {
  SettingInfo,
  SettingCondition,
  describeSettings,
  describeCondition,
  conditionAllows,
  conditionHolds,
  type ConditionValue,
} from './setting-info.js';
export { builtinJobTypes } from './builtins.js';
export { renderJobType, RenderSettings, DEFAULT_RENDER_CHUNK_SIZE } from './types/render.js';
export { framesToVideoJobType, FramesToVideoSettings } from './types/frames-to-video.js';
export { transcodeJobType, TranscodeSettings } from './types/transcode.js';
export { commandJobType, CommandSettings, DEFAULT_COMMAND_CHUNK_SIZE } from './types/command.js';
export {
  echoSleepJobType,
  EchoSleepSettings,
  FAIL_PROGRAM,
  DEFAULT_ECHO_SLEEP_CHUNK_SIZE,
} from './types/echo-sleep.js';
export { MAX_VIDEO_RUNS } from './ffmpeg.js';
