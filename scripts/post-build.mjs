// After tsc and Vite: makes the CLI entry executable (tsc does not keep modes), and writes a gzip
// twin beside each of the dashboard's text files, which the manager sends to browsers that accept
// gzip (Fastify compresses nothing by itself).
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (existsSync(entry)) chmodSync(entry, 0o755);

const dashboard = new URL('../dist/dashboard/', import.meta.url).pathname;
const compressible = /\.(js|css|html|svg|json)$/;
function gzipTree(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) gzipTree(path);
    else if (compressible.test(name)) writeFileSync(`${path}.gz`, gzipSync(readFileSync(path), { level: 9 }));
  }
}
if (existsSync(dashboard)) gzipTree(dashboard);
