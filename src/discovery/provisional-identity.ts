/**
 * This host's UUID until `network.cfg` identity (another branch of issue 11) is merged: its
 * `[Local] UUID` when the file exists, else a UUID derived from /etc/machine-id so it stays the
 * same across runs. It never writes network.cfg: generating the identity is that branch's job.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

export function provisionalHostUuid(home: string): string {
  return uuidFromNetworkCfg(join(home, 'network.cfg')) ?? uuidFromMachineId() ?? randomUUID();
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function uuidFromNetworkCfg(path: string): string | undefined {
  let section = '';
  for (const line of (readText(path) ?? '').split(/\r?\n/)) {
    const header = /^\s*\[(.+)\]\s*$/.exec(line);
    if (header) section = (header[1] ?? '').trim().toLowerCase();
    const pair = /^\s*uuid\s*=\s*([0-9a-f-]{36})\s*$/i.exec(line);
    if (section === 'local' && pair?.[1]) return pair[1].toLowerCase();
  }
  return undefined;
}

function uuidFromMachineId(): string | undefined {
  const machineId = readText('/etc/machine-id')?.trim();
  if (!machineId) return undefined;
  // Hashed with the host name, so clones that share a machine-id but were renamed still differ.
  const hex = createHash('sha256').update(`kiln:${machineId}:${hostname()}`).digest('hex');
  const variant = ((Number.parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
