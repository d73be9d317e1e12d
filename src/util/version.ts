/** Kiln's version: the `version` of package.json, read once; every part reports this one. */
import { readFileSync } from 'node:fs';

function readPackageVersion(): string {
  try {
    // dist/src/util/version.js -> the package root.
    const text = readFileSync(new URL('../../../package.json', import.meta.url), 'utf8');
    const version = (JSON.parse(text) as { version?: unknown }).version;
    return typeof version === 'string' ? version : 'unknown';
  } catch {
    return 'unknown';
  }
}

export const KILN_VERSION: string = readPackageVersion();
