import { spawn } from 'node:child_process';
import { Socket } from 'node:net';
import pg from 'pg';

/** Runs Debian's psql (the client a studio would use) and returns its result. */
export function psql(
  conninfo: string,
  sql: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('psql', [conninfo, '-XAtc', sql], { env: { ...process.env, PGCONNECT_TIMEOUT: '5', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: stdout.trim(), stderr: stderr.trim() }));
  });
}

/**
 * Connects from a chosen source address (e.g. 127.0.0.2) so host-based rules can be
 * tested on one machine; libpq cannot pick its source address, node's socket can.
 */
export async function connectFrom(localAddress: string, config: pg.ClientConfig): Promise<pg.Client> {
  class BoundSocket extends Socket {
    override connect(...args: unknown[]): this {
      const [port, host] = args as [number, string];
      return super.connect({ port, host, localAddress });
    }
  }
  const client = new pg.Client({ ...config, stream: () => new BoundSocket() });
  await client.connect();
  return client;
}
