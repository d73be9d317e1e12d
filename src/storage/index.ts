// Shared storage: two-way path variables, cloud-sync detection, and the Shaman store.
export {
  PlatformSchema,
  AudienceSchema,
  VariableValueSchema,
  TwoWayVariableSchema,
  type Platform,
  type Audience,
  type VariableValue,
  type TwoWayVariable,
  platformOf,
  toStoredPath,
  toPlatformPath,
  pickValue,
  checkVariables,
  isUncPath,
  uncPathError,
  assertNotUncPath,
} from './paths.js';
export {
  findCloudSyncMarker,
  assertNotCloudSynced,
  CLOUD_SYNC_LABELS,
  type CloudSyncMarker,
  type CloudSyncService,
} from './cloud-sync.js';
export * from './shaman/index.js';
export type { JobStorage } from './job-storage.js';
