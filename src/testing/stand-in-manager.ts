import { createServer, type Server } from 'node:http';

/**
 * A stand-in manager on loopback for a test file: it answers only `/api/v1/version`, as a real
 * manager does, which is all that finding a manager asks of it. Returns its port once started.
 */
export function useStandInManager(
  hooks: { before: (fn: () => unknown) => void; after: (fn: () => unknown) => void },
  /** Told the port once it listens (to fill the file's own variable). */
  onReady: (port: number) => void = () => undefined,
): () => number {
  let server: Server | undefined;
  let port = 0;
  hooks.before(async () => {
    server = createServer((_request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ name: 'kiln', version: '0.1.0', apiVersion: 1 }));
    });
    const started = server;
    await new Promise<void>((resolve) => started.listen(0, '127.0.0.1', resolve));
    port = (started.address() as { port: number }).port;
    onReady(port);
  });
  hooks.after(() => server?.close());
  return () => port;
}
