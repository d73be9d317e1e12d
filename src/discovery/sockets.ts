/**
 * The two UDP sockets of a self-discovery member:
 * - the group socket, bound to the discovery port and joined to the scope, hears what is
 *   multicast (announcements, goodbyes, queries); several Kiln programs on a host share the port;
 * - the reply socket, on a port of the dynamic range, sends everything (so replies to this
 *   member's queries come back to it alone) with the configured TTL and interface.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { platform } from 'node:os';
import { bindInRange } from '../config/dynamic-ports.js';
import type { PortRange, SelfDiscoverySettings } from '../config/network-config.js';
import { UserError } from '../util/errors.js';

export type OnDatagram = (data: Buffer, from: RemoteInfo) => void;

export interface DiscoverySockets {
  /** Sends to the scope (no address) or back to one member. */
  send(data: Buffer, to?: { address: string; port: number }): Promise<void>;
  close(): Promise<void>;
}

export async function openDiscoverySockets(options: {
  settings: SelfDiscoverySettings;
  dynamicPorts: PortRange;
  /** Where to join the group: the interface's addresses (none: the system's choice). */
  joinOn: string[];
  /** The interface's address to send from (none: the route for the scope decides). */
  sendFrom?: string | undefined;
  onDatagram: OnDatagram;
  onError: (error: Error) => void;
  /** network.cfg, named in messages. */
  file?: string | undefined;
}): Promise<DiscoverySockets> {
  const { settings } = options;
  const group = await openGroupSocket(settings, options.joinOn, options.file);
  group.on('message', options.onDatagram);
  group.on('error', options.onError);
  let reply: Socket;
  try {
    reply = await bindInRange(options.dynamicPorts, (port) => bindUdp(port));
  } catch (error) {
    group.close();
    throw error;
  }
  reply.setMulticastTTL(settings.ttl);
  reply.setMulticastLoopback(true);
  if (options.sendFrom) reply.setMulticastInterface(options.sendFrom);
  reply.on('message', options.onDatagram);
  reply.on('error', options.onError);
  return {
    send: (data, to) =>
      new Promise((resolve, reject) =>
        reply.send(data, to?.port ?? settings.port, to?.address ?? settings.scope, (error) =>
          error ? reject(error) : resolve(),
        ),
      ),
    close: async () => {
      await Promise.all([closeSocket(group), closeSocket(reply)]);
    },
  };
}

async function openGroupSocket(settings: SelfDiscoverySettings, joinOn: string[], file?: string): Promise<Socket> {
  const socket = createSocket({ type: 'udp4', reuseAddr: true });
  // On Linux, bound to the group address it hears only that group (not every group on the port).
  const address = platform() === 'linux' ? settings.scope : '0.0.0.0';
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ port: settings.port, address, exclusive: false }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    socket.close();
    throw new UserError(
      `cannot listen for self-discovery on udp ${settings.scope}:${settings.port}: ${(error as Error).message}` +
        (file ? ` (network.cfg: ${file})` : ''),
    );
  }
  let joined = 0;
  const failures: string[] = [];
  for (const on of joinOn.length ? joinOn : [undefined]) {
    try {
      socket.addMembership(settings.scope, on);
      joined++;
    } catch (error) {
      failures.push(`${on ?? 'default interface'}: ${(error as NodeJS.ErrnoException).code ?? error}`);
    }
  }
  if (!joined) {
    socket.close();
    throw new UserError(
      `cannot join multicast group ${settings.scope} (${failures.join('; ')}); run \`kiln services map\` for a diagnosis`,
    );
  }
  return socket;
}

function bindUdp(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', (error) => {
      socket.close();
      reject(error);
    });
    socket.bind(port, () => resolve(socket));
  });
}

function closeSocket(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}
