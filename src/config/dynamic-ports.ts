/**
 * Ports for services that need an arbitrary one (a discovery reply socket, a helper's listener):
 * taken inside network.cfg `[Dynamic Ports]`, so a firewall opened for that range lets them through.
 */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import type { PortRange } from './network-config.js';
import { UserError, isErrnoException } from '../util/errors.js';

/**
 * Calls `bind(port)` on random ports of the range until one is free (EADDRINUSE: next), so two
 * programs picking at once do not collide on a port found free a moment earlier.
 */
export async function bindInRange<T>(range: PortRange, bind: (port: number) => Promise<T>, attempts = 64): Promise<T> {
  const size = range.upper - range.lower + 1;
  for (let attempt = 0; attempt < Math.min(attempts, size * 2); attempt++) {
    const port = range.lower + Math.floor(Math.random() * size);
    try {
      return await bind(port);
    } catch (error) {
      if (!isErrnoException(error, 'EADDRINUSE') && !isErrnoException(error, 'EACCES')) throw error;
    }
  }
  throw new UserError(
    `no free port in the dynamic range ${range.lower}-${range.upper} (network.cfg [Dynamic Ports]) after ${attempts} tries`,
  );
}

/** A port of the range free for `protocol` now (for a program that binds it itself later). */
export function pickFreePort(range: PortRange, protocol: 'tcp' | 'udp' = 'tcp'): Promise<number> {
  return bindInRange(range, (port) => (protocol === 'tcp' ? probeTcp(port) : probeUdp(port)));
}

function probeTcp(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port, exclusive: true }, () => server.close(() => resolve(port)));
  });
}

function probeUdp(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', (error) => {
      socket.close();
      reject(error);
    });
    socket.bind(port, () => socket.close(() => resolve(port)));
  });
}
