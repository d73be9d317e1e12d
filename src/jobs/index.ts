// The public surface of src/jobs: job types that compile a submitted job into tasks.
export { DEFAULT_PRIORITY } from './types.js';
export type { CompiledTask } from './types.js';
export {
  JobTypeRegistry,
  createJobTypeRegistry,
  etag,
} from './registry.js';
export { renderJobType } from './types/render.js';
