import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Where `npm run build` puts the web dashboard (Vite's output), beside the compiled manager. */
const DASHBOARD_DIR = fileURLToPath(new URL('../../../dashboard/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

/** Vite names these by their content hash: a new build makes new names, so they never change. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

interface StaticFile {
  body: Buffer;
  /** The gzip twin post-build.mjs wrote, when there is one. */
  gzipped: Buffer | undefined;
  type: string;
}

/**
 * Serves the dashboard's files at `/`; any other GET that is not an API path answers index.html,
 * so a deep link (`/jobs?status=failed`) opens the page, whose router reads the address. Files found
 * are read once and kept (the build does not change while the manager runs); their `.gz` twins go to
 * clients that accept gzip.
 */
export function makeStaticHandler(root = DASHBOARD_DIR) {
  // Only files found are kept: a miss is forgotten, so the addresses anyone asks for (every deep
  // link, every scan for /wp-admin) cannot grow the map, and a page built later is found.
  const cache = new Map<string, Promise<StaticFile | undefined>>();
  const load = (relative: string): Promise<StaticFile | undefined> => {
    let file = cache.get(relative);
    if (!file) {
      const path = join(root, relative);
      file = Promise.all([readFile(path), readFile(`${path}.gz`).catch(() => undefined)]).then(
        ([body, gzipped]) => ({ body, gzipped, type: TYPES[extname(path)] ?? 'application/octet-stream' }),
        () => {
          cache.delete(relative);
          return undefined;
        },
      );
      cache.set(relative, file);
    }
    return file;
  };

  /** True when it answered; false leaves the request to the API's 404. */
  return async (request: FastifyRequest, reply: FastifyReply): Promise<boolean> => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return false;
    const path = decodePath(request.url.split('?')[0] ?? '/');
    if (path === undefined || path.startsWith('/api/')) return false;
    const relative = normalize(path).replace(/^[/\\]+/, '');
    if (relative.split(sep).includes('..')) return false;
    const asset = relative !== '' && !relative.endsWith('index.html') ? await load(relative) : undefined;
    const file = asset ?? (await load('index.html'));
    if (!file) {
      void reply
        .status(503)
        .type('text/plain; charset=utf-8')
        .send('the dashboard is not built: run `npm run build` (the API is at /api/v1)');
      return true;
    }
    if (!asset && extname(relative) !== '' && relative.startsWith('assets')) return false; // a missing asset
    void reply.type(file.type).header('vary', 'accept-encoding');
    void reply.header('cache-control', asset && relative.startsWith('assets/') ? IMMUTABLE : 'no-cache');
    const gzip = file.gzipped && /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
    if (gzip) void reply.header('content-encoding', 'gzip');
    void reply.send(gzip ? file.gzipped : file.body);
    return true;
  };
}

function decodePath(path: string): string | undefined {
  try {
    return decodeURIComponent(path);
  } catch {
    return undefined;
  }
}
