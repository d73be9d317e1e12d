/**
 * The IPv4 addresses this host announces and sends from: the configured interface's, else every
 * non-loopback interface's, else loopback's (a host alone, with `lo` set up for multicast).
 */
import { networkInterfaces } from 'node:os';
import { UserError } from '../util/errors.js';

export function interfaceAddresses(interfaceName: string | undefined, file = 'network.cfg'): string[] {
  const all = networkInterfaces();
  if (interfaceName) {
    const addresses = (all[interfaceName] ?? []).filter((info) => info.family === 'IPv4').map((info) => info.address);
    if (!addresses.length)
      throw new UserError(
        `[Self Discovery] Interface ${interfaceName}: this host has no such interface with an IPv4 address (in ${file})`,
        { field: 'Self Discovery.Interface', code: 'invalid_config' },
      );
    return addresses;
  }
  const external = Object.values(all)
    .flatMap((infos) => infos ?? [])
    .filter((info) => info.family === 'IPv4' && !info.internal)
    .map((info) => info.address);
  return external.length ? external : ['127.0.0.1'];
}
