import { rm, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { UserError } from '../../util/errors.js';
import {
  assertNotUncPath,
  checkVariables,
  findCloudSyncMarker,
  platformOf,
  toPlatformPath,
  toStoredPath,
  CLOUD_SYNC_LABELS,
  ShamanStore,
  deleteCheckout,
  type Platform,
  type TwoWayVariable,
} from '../../storage/index.js';
import type { ManagerConfig } from '../config.js';
import type { IoGate } from '../../io/index.js';
import type { JobStorage } from '../../storage/job-storage.js';

export type { JobStorage };

/** The Shaman store and the job folder (`<shared>/jobs`) its checkouts are made in. */
export interface ShamanSetup {
  store: ShamanStore;
  jobsDir: string;
  /** I/O priority: checkouts and garbage collection wait at it. */
  ioGate?: IoGate | undefined;
}

/**
 * The manager's view of shared storage: where it is on this host, the job folders under it,
 * the Shaman store, and the path translation between stored form and each platform's form.
 */
export class SharedStorage {
  readonly path: string | undefined;
  readonly variables: readonly TwoWayVariable[];
  /** Shaman, with the folder its checkouts go in: Shaman needs shared storage, so both or neither. */
  readonly shaman: ShamanSetup | undefined;
  readonly platform: Platform = platformOf();

  private constructor(config: ManagerConfig, ioGate?: IoGate) {
    this.path = config.shared_storage_path ? resolve(config.shared_storage_path) : undefined;
    this.variables = config.variables;
    this.shaman =
      config.shaman.enabled && this.path
        ? { store: new ShamanStore(join(this.path, 'shaman')), jobsDir: join(this.path, 'jobs'), ioGate }
        : undefined;
  }

  /**
   * Checks the settings and refuses what cannot work, saying what to do instead:
   * a UNC path (map a drive letter), a cloud-synced folder, Shaman without shared storage.
   */
  static async open(config: ManagerConfig, ioGate?: IoGate): Promise<SharedStorage> {
    checkVariables(config.variables, 'manager.variables');
    const path = config.shared_storage_path;
    if (path) {
      assertNotUncPath(path, 'manager.shared_storage_path');
      const marker = await findCloudSyncMarker(resolve(path));
      if (marker) {
        throw new UserError(
          `manager.shared_storage_path ${path} is inside a folder synced by ${CLOUD_SYNC_LABELS[marker.service]} (${marker.marker}); such a service does not make one host's writes visible to the others at once. Use a network share (NFS/SMB) instead`,
          { field: 'manager.shared_storage_path', code: 'cloud_synced' },
        );
      }
      const info = await stat(path).catch(() => undefined);
      if (!info?.isDirectory())
        throw new UserError(
          `manager.shared_storage_path ${path} is not a folder on this host; create or mount it first`,
          { field: 'manager.shared_storage_path' },
        );
    }
    if (config.shaman.enabled && !path)
      throw new UserError('manager.shaman.enabled needs manager.shared_storage_path', {
        field: 'manager.shaman.enabled',
      });
    return new SharedStorage(config, ioGate);
  }

  /** Job folders (copies and Shaman checkouts) live here. */
  get jobsDir(): string | undefined {
    return this.path && join(this.path, 'jobs');
  }

  /** The shared path in stored form (with a variable when one covers it). */
  get storedPath(): string | undefined {
    return this.path && toStoredPath(this.path, this.platform, this.variables);
  }

  /** A stored path as `platform` sees it. */
  forPlatform(stored: string, platform: Platform, audience: 'workers' | 'users' = 'workers'): string {
    return toPlatformPath(stored, platform, audience, this.variables);
  }

  /**
   * Command parameters with every string that starts with a variable (`{farm}/...`) in the
   * receiving worker's own form: a Windows worker gets `S:\...`, a Linux one `/mnt/farm/...`.
   */
  commandsFor<T>(commands: T, platform: Platform): T {
    if (this.variables.length === 0) return commands;
    const names = new Set(this.variables.map((v) => v.name));
    const visit = (value: unknown): unknown => {
      if (typeof value === 'string') {
        const name = /^\{([A-Za-z_][A-Za-z0-9_-]*)\}/.exec(value)?.[1];
        return name !== undefined && names.has(name) ? this.forPlatform(value, platform) : value;
      }
      if (Array.isArray(value)) return value.map(visit);
      if (value && typeof value === 'object')
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, visit(v)]));
      return value;
    };
    return visit(commands) as T;
  }

  /** Removes a deleted job's copy or checkout; never the files of a direct job. */
  async removeJobFiles(storage: JobStorage | null): Promise<void> {
    if (!storage || storage.mode === 'direct' || !this.jobsDir) return;
    if (storage.mode === 'shaman' && storage.checkout) {
      await deleteCheckout(this.jobsDir, storage.checkout);
      return;
    }
    const local = resolve(this.forPlatform(storage.effectivePath, this.platform));
    const inside = relative(this.jobsDir, local);
    // Only ever a folder under <shared>/jobs: a bad record must not delete anything else.
    if (!inside || inside.startsWith('..') || isAbsolute(inside)) return;
    await rm(local, { recursive: true, force: true });
  }
}
