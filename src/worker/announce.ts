/**
 * The worker's part in self-discovery: it announces itself (kind `worker`, no ports: nothing
 * connects to a worker) so `kiln services map` shows every render node, and says goodbye when it
 * stops cleanly. Off when `KILN_SELF_DISCOVERY` is off, as in the tests, so nothing is sent on
 * the host's own interfaces.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { ensureHostIdentity } from '../config/host-identity.js';
import { selfDiscoveryEnabled } from '../discovery/find-manager.js';
import { startSelfDiscovery } from '../discovery/self-discovery.js';

/** Starts announcing; the answer stops it (with the goodbye). Undefined when discovery is off. */
export async function startWorkerAnnouncement(options: {
  home: string;
  name: string;
  env: NodeJS.ProcessEnv;
  log: Logger;
}): Promise<(() => Promise<void>) | undefined> {
  if (!selfDiscoveryEnabled(options.env)) return undefined;
  const network = await ensureHostIdentity(options.home);
  // One worker per home (the home lock), so the home tells two workers of one host apart even
  // when they share a name.
  const homeTag = createHash('sha256').update(options.home).digest('hex').slice(0, 8);
  const member = await startSelfDiscovery({
    network,
    services: [{ kind: 'worker', ports: {}, instance: `${options.name}:${homeTag}`, meta: { name: options.name } }],
    logger: options.log,
  });
  options.log.info(
    { uuid: network.uuid, scope: network.selfDiscovery.scope, port: network.selfDiscovery.port },
    'announcing by multicast self-discovery',
  );
  return () => member.stop();
}
