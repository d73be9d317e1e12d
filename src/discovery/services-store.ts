/**
 * services.cfg on disk: where it lives, reading it (a missing file is an empty list) and writing
 * it whole and atomically, so a reader never sees half a file.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isErrnoException } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';
import {
  emptyServicesDocument,
  formatServicesFile,
  parseServicesFile,
  servicesFileEntries,
  type ServicesDocument,
} from './services-file.js';
import type { KnownEntry } from './types.js';

const SERVICES_FILE_NAME = 'services.cfg';

export function servicesFilePath(home: string): string {
  return join(home, SERVICES_FILE_NAME);
}

/** The document in `path`, or a new one (with its explanatory header) when there is no file. */
export async function readServicesDocument(path: string): Promise<ServicesDocument> {
  try {
    return parseServicesFile(await readFile(path, 'utf8'), path);
  } catch (error) {
    if (isErrnoException(error, 'ENOENT')) return emptyServicesDocument();
    throw error;
  }
}

/** The entries listed in `path`; none when the file does not exist. */
export async function readServicesEntries(path: string): Promise<KnownEntry[]> {
  let fileTime = 0;
  try {
    fileTime = (await stat(path)).mtimeMs;
  } catch (error) {
    if (isErrnoException(error, 'ENOENT')) return [];
    throw error;
  }
  return servicesFileEntries(await readServicesDocument(path), fileTime, path);
}

export async function writeServicesDocument(path: string, document: ServicesDocument): Promise<void> {
  await writeFileAtomic(path, formatServicesFile(document));
}
