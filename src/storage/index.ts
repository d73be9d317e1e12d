// Shared storage: two-way path variables, cloud-sync detection, and the Shaman store.
export {
  type Platform,
  type TwoWayVariable,
  platformOf,
  toStoredPath,
  toPlatformPath,
  checkVariables,
  assertNotUncPath,
} from './paths.js';
export {
  findCloudSyncMarker,
  CLOUD_SYNC_LABELS,
} from './cloud-sync.js';
export * from './shaman/index.js';
