import { commandJobType } from './types/command.js';
import { echoSleepJobType } from './types/echo-sleep.js';
import { framesToVideoJobType } from './types/frames-to-video.js';
import { renderJobType } from './types/render.js';
import { transcodeJobType } from './types/transcode.js';
import type { JobType } from './types.js';

/** The job types every manager has, before any from `job_types_dir`. */
export const builtinJobTypes: readonly JobType[] = Object.freeze([
  renderJobType,
  framesToVideoJobType,
  transcodeJobType,
  commandJobType,
  echoSleepJobType,
]);
