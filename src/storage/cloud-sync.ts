import { lstat, realpath } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { UserError } from '../util/errors.js';

/**
 * Folders kept in sync by cloud services do not make a file written by one host visible at once
 * to the others, so they are refused as shared storage. Detection is by the names such services
 * give their folders and by the marker files they leave at the root of the synced tree.
 */

export type CloudSyncService = 'dropbox' | 'onedrive' | 'google-drive' | 'icloud' | 'syncthing';

export const CLOUD_SYNC_LABELS: Readonly<Record<CloudSyncService, string>> = Object.freeze({
  dropbox: 'Dropbox',
  onedrive: 'OneDrive',
  'google-drive': 'Google Drive',
  icloud: 'iCloud Drive',
  syncthing: 'Syncthing',
});

export interface CloudSyncMarker {
  service: CloudSyncService;
  /** The folder recognised by its name, or the marker file or folder found in an ancestor. */
  marker: string;
}

/** Entries a sync service keeps at the root of the tree it syncs. */
const MARKER_ENTRIES: ReadonlyArray<readonly [string, CloudSyncService]> = [
  ['.dropbox', 'dropbox'],
  ['.dropbox.cache', 'dropbox'],
  ['.849C9593-D756-4E56-8D6E-42412F2A707B', 'onedrive'],
  ['.tmp.drivedownload', 'google-drive'],
  ['.tmp.driveupload', 'google-drive'],
  ['.stfolder', 'syncthing'],
  ['.stversions', 'syncthing'],
];

/**
 * Walks up from `path` (and from its real path, when symlinks lead elsewhere) and returns the
 * first sign that it lies inside a cloud-synced folder, or undefined. The path need not exist.
 */
export async function findCloudSyncMarker(path: string): Promise<CloudSyncMarker | undefined> {
  const absolute = resolve(path);
  const starts = [absolute];
  const real = await realpath(absolute).catch(() => undefined);
  if (real && real !== absolute) starts.push(real);
  for (const start of starts) {
    for (let dir = start; ; dir = dirname(dir)) {
      const found = matchFolderName(dir) ?? (await findMarkerEntry(dir));
      if (found) return found;
      if (dirname(dir) === dir) break;
    }
  }
  return undefined;
}

/** Throws a UserError when `path` is inside a cloud-synced folder. */
export async function assertNotCloudSynced(path: string, field?: string): Promise<void> {
  const found = await findCloudSyncMarker(path);
  if (!found) return;
  throw new UserError(
    `${path} is inside a folder kept in sync by ${CLOUD_SYNC_LABELS[found.service]} (${found.marker}); ` +
      'synced folders do not show a file written on one host to the others at once, so they cannot be shared storage',
    { field, code: 'cloud_synced' },
  );
}

function matchFolderName(dir: string): CloudSyncMarker | undefined {
  const name = basename(dir).toLowerCase();
  const parent = basename(dirname(dir)).toLowerCase();
  const service = serviceOfFolderName(name, parent);
  return service ? { service, marker: dir } : undefined;
}

function serviceOfFolderName(name: string, parent: string): CloudSyncService | undefined {
  if (name === 'onedrive' || name.startsWith('onedrive - ')) return 'onedrive';
  if (name === 'my drive') return 'google-drive';
  if (name === 'com~apple~clouddocs') return 'icloud';
  if (name === 'mobile documents' && parent === 'library') return 'icloud';
  if (parent === 'cloudstorage') {
    // macOS File Provider locations: ~/Library/CloudStorage/GoogleDrive-me@x.com, OneDrive-Personal, Dropbox
    if (name.startsWith('googledrive')) return 'google-drive';
    if (name.startsWith('onedrive')) return 'onedrive';
    if (name.startsWith('dropbox')) return 'dropbox';
  }
  return undefined;
}

async function findMarkerEntry(dir: string): Promise<CloudSyncMarker | undefined> {
  const present = await Promise.all(
    MARKER_ENTRIES.map(([name]) =>
      lstat(join(dir, name)).then(
        () => true,
        () => false,
      ),
    ),
  );
  const index = present.indexOf(true);
  const entry = MARKER_ENTRIES[index];
  return entry ? { service: entry[1], marker: join(dir, entry[0]) } : undefined;
}
