/**
 * Which listeners a host's background work watches: this host's own (at its configured port) and
 * the storage hosts named in `network.cfg` `[IO Priority] Hosts`. From the Kiln home.
 */
import { loadNetworkConfig, type IoPrioritySettings } from '../config/network-config.js';
import { IoPriorityGate } from './gate.js';
import { localAddress } from './holder.js';
import type { IoTarget } from './host-watch.js';

export function ioSettings(home: string): IoPrioritySettings {
  return loadNetworkConfig(home).ioPriority;
}

/** This host first, then each configured storage host (duplicates once). */
export function gateTargets(settings: IoPrioritySettings): IoTarget[] {
  const targets: IoTarget[] = [{ host: localAddress(settings.listen), port: settings.port }];
  for (const target of settings.hosts)
    if (!targets.some((known) => known.host === target.host && known.port === target.port)) targets.push(target);
  return targets;
}

/** A started gate for this home's configuration; close it when the work is done. */
export async function openIoGate(home: string, program: string): Promise<IoPriorityGate> {
  const gate = new IoPriorityGate({ targets: gateTargets(ioSettings(home)), program });
  await gate.start();
  return gate;
}
