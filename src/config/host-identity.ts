/**
 * This host's identity: network.cfg `[Local] UUID`, generated the first time anything needs it
 * and never overwritten afterwards (only `kiln identity --regenerate` replaces it, for a cloned
 * machine). No two hosts may share it: discovery tells services apart by it.
 *
 * Several Kiln programs may start at once on a new host (a manager and a worker from one boot
 * script); they must all end up with one UUID. A missing file is created whole with link(2),
 * which fails when the file exists (every loser re-reads the winner's); a file without a UUID
 * is changed under an O_EXCL lock file, re-read inside the lock.
 */
import { randomUUID } from 'node:crypto';
import { link, open, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { writeFileAtomic } from '../util/fs.js';
import { isErrnoException } from '../util/errors.js';
import { setIniValue } from './ini.js';
import { loadNetworkConfig, networkConfigPath, readNetworkConfigText, type NetworkConfig } from './network-config.js';

/** A new host's file: the UUID and the defaults, written out so people see what they may change. */
function defaultNetworkCfg(uuid: string): string {
  return [
    '# Kiln host settings. UUID identifies this host on the network: never copy it to another host',
    '# (on a cloned machine run `kiln identity --regenerate`).',
    '[Local]',
    `UUID = ${uuid}`,
    '',
    '[Self Discovery]',
    'Port = 7555',
    'Scope = 224.0.0.1',
    'TTL = 1',
    '# Interface = eth0',
    '',
    '[Dynamic Ports]',
    'LowerBound = 49152',
    'UpperBound = 65535',
    '',
  ].join('\n');
}

/** The settings, with a UUID: created (once, for every concurrent caller alike) when missing. */
export async function ensureHostIdentity(home: string): Promise<NetworkConfig & { uuid: string }> {
  const file = networkConfigPath(home);
  let config = loadNetworkConfig(home);
  if (config.uuid) return { ...config, uuid: config.uuid };
  if (readNetworkConfigText(file) === '') await createWhole(file, defaultNetworkCfg(randomUUID()));
  config = loadNetworkConfig(home);
  if (!config.uuid) {
    await withLock(file, async () => {
      // Re-read inside the lock: another program may have added one meanwhile.
      if (loadNetworkConfig(home).uuid) return;
      await writeFileAtomic(file, setIniValue(readNetworkConfigText(file), 'Local', 'UUID', randomUUID()));
    });
    config = loadNetworkConfig(home);
  }
  if (!config.uuid) throw new Error(`${file}: no [Local] UUID after writing one`);
  return { ...config, uuid: config.uuid };
}

/** Replaces the UUID (for a cloned machine); the rest of the file is kept. Returns the old one. */
export async function regenerateHostIdentity(home: string): Promise<{ previous?: string | undefined; uuid: string }> {
  await ensureHostIdentity(home);
  const file = networkConfigPath(home);
  const uuid = randomUUID();
  let previous: string | undefined;
  await withLock(file, async () => {
    previous = loadNetworkConfig(home).uuid;
    await writeFileAtomic(file, setIniValue(readNetworkConfigText(file), 'Local', 'UUID', uuid));
  });
  return { previous, uuid };
}

/** Writes `text` to `file` only if there is no file yet; readers never see a part of it. */
async function createWhole(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temp = join(dirname(file), `.${basename(file)}.${randomBytes(4).toString('hex')}.new`);
  await writeFile(temp, text, { mode: 0o644 });
  try {
    await link(temp, file);
  } catch (error) {
    if (!isErrnoException(error, 'EEXIST')) throw error;
  } finally {
    await rm(temp, { force: true });
  }
}

const LOCK_STALE_MS = 10_000;

async function withLock(file: string, fn: () => Promise<void>): Promise<void> {
  const lock = `${file}.lock`;
  const deadline = Date.now() + 2 * LOCK_STALE_MS;
  for (;;) {
    try {
      const handle = await open(lock, 'wx');
      await handle.close();
      break;
    } catch (error) {
      if (!isErrnoException(error, 'EEXIST') || Date.now() > deadline) throw error;
      // A program killed while holding it leaves it behind: old locks are taken over.
      const age = await stat(lock).then(
        (info) => Date.now() - info.mtimeMs,
        () => 0,
      );
      if (age > LOCK_STALE_MS) await rm(lock, { force: true });
      else await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  try {
    await fn();
  } finally {
    await rm(lock, { force: true });
  }
}
