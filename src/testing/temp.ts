import { mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';

/**
 * A temp directory removed when the test ends. Mode 0755 so that the database's system
 * user (tests run as root) can pass through it; tests of private dirs chmod it themselves.
 */
export function makeTempDir(
  t: { after: (fn: () => unknown) => void },
  prefix = 'kiln-test-',
  beforeRemove?: () => Promise<unknown>,
): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  t.after(async () => {
    await beforeRemove?.().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** A TCP port that was free a moment ago (the kernel picks it). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() =>
        address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}
