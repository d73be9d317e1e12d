import { UserError } from '../util/errors.js';
import { openCluster, type ClusterMeta } from './cluster.js';
import { readHandSetMaxConnections } from './hand-settings.js';
import { MAX_CONNECTIONS, MIN_CONNECTIONS, type ConnectionLimit } from './limits.js';
import { writeServerConfig } from './server-config.js';
import { readRunningState, startServer, stopServer } from './server-process.js';
import { startAnnouncer, stopAnnouncer } from './announcer.js';

/** The settings `kiln db set NAME VALUE` knows; any other belongs in postgresql.conf. */
export const SETTINGS = ['clients', 'max_connections'] as const;

export interface SetResult {
  limit: ConnectionLimit;
  restarted: boolean;
  notes: string[];
}

export function validateClients(clients: number): void {
  if (!Number.isInteger(clients) || clients < 1 || clients > 10000)
    throw new UserError(`invalid clients "${clients}": must be an integer from 1 to 10000`, { field: 'clients' });
}

function parseWhole(text: string, field: string): number {
  if (!/^\d+$/.test(text.trim())) throw new UserError(`invalid ${field} "${text}": must be a whole number`, { field });
  return Number(text);
}

/** `max_connections N` fixes the figure; `max_connections auto` returns to 7 + 10 x clients. */
function parseMaxConnections(text: string): number | undefined {
  if (text.trim() === 'auto') return undefined;
  if (!/^\d+$/.test(text.trim()) || Number(text) < MIN_CONNECTIONS || Number(text) > MAX_CONNECTIONS) {
    throw new UserError(
      `invalid max_connections "${text}": must be a whole number from ${MIN_CONNECTIONS} to ${MAX_CONNECTIONS}, or auto for Kiln's rule`,
      { field: 'max_connections' },
    );
  }
  return Number(text);
}

/** Changes one setting; max_connections needs a restart, so a running server is restarted. */
export async function setSetting(data: string, name: string, value: string): Promise<SetResult> {
  if (!(SETTINGS as readonly string[]).includes(name)) {
    throw new UserError(
      `unknown setting "${name}": kiln db set knows ${SETTINGS.join(', ')}; put other PostgreSQL settings in postgresql.conf, where Kiln keeps them`,
      { field: 'name' },
    );
  }
  const { paths, meta, user } = openCluster(data);
  let next: ClusterMeta;
  if (name === 'clients') {
    const clients = parseWhole(value, 'clients');
    validateClients(clients);
    next = { ...meta, clients };
  } else {
    const fixed = parseMaxConnections(value);
    const hand = readHandSetMaxConnections(paths.dataDir);
    if (hand) {
      throw new UserError(
        `max_connections is set by hand in ${hand.file} (${hand.value}), which PostgreSQL reads over Kiln's; change or remove it there`,
        { field: 'max_connections', code: 'set_by_hand' },
      );
    }
    next = { ...meta, maxConnections: fixed };
    if (fixed === undefined) delete next.maxConnections;
  }
  const written = await writeServerConfig(paths, next, user, { keepHandEdit: name !== 'max_connections' });
  const running = readRunningState(paths).running;
  if (running) {
    const home = await stopAnnouncer(paths);
    await stopServer(paths, written.meta, user);
    await startServer(paths, written.meta, user);
    if (home) startAnnouncer(paths, home);
  }
  return { limit: written.limit, restarted: running, notes: written.notes };
}
