import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { startTestCluster } from '../testing/cluster.js';
import { startTestManager, type TestManager } from '../testing/farm.js';
import { KILN_MAIN, assertOneLineError, runKiln } from '../testing/cli.js';

const cleanups: Array<() => unknown> = [];
const t = { after: (fn: () => unknown) => cleanups.push(fn) };
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

describe('output piped into head', () => {
  let m: TestManager;
  before(async () => {
    const cluster = await startTestCluster(t);
    m = await startTestManager(t, cluster);
    // Enough jobs that the listing is far larger than a pipe's buffer.
    for (let i = 0; i < 300; i++)
      await m.api('POST', '/jobs', { name: `job-${i}-${'n'.repeat(150)}`, type: 'echo-sleep', settings: {} });
  });

  it('`kiln jobs ls --json | head -1` ends quietly: no EPIPE trace, exit 0', async () => {
    const result = await new Promise<{ stderr: string; kiln: string }>((resolve, reject) => {
      const shell = spawn(
        'bash',
        [
          '-c',
          `"$0" "$1" jobs ls --json --limit 1000 --manager "$2" | head -c 10 >/dev/null; echo "kiln=\${PIPESTATUS[0]}" >&2`,
          process.execPath,
          KILN_MAIN,
          m.url,
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let stderr = '';
      shell.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      shell.on('error', reject);
      shell.on('close', () =>
        resolve({ stderr: stderr.replace(/kiln=\d+\n$/, ''), kiln: /kiln=(\d+)/.exec(stderr)?.[1] ?? '?' }),
      );
    });
    assert.equal(result.stderr, '', 'nothing on stderr');
    assert.equal(result.kiln, '0', 'kiln exits 0');
  });
});

describe('a manager URL that is not Kiln', () => {
  const answers: Record<string, { status: number; type: string; body: string }> = {
    '/empty404': { status: 404, type: 'text/plain', body: '' },
    '/html404': { status: 404, type: 'text/html', body: '<html><body>Not Found</body></html>' },
    '/html200': { status: 200, type: 'text/html', body: '<!doctype html><html>welcome</html>' },
    '/otherjson': { status: 200, type: 'application/json', body: '{"items":[1,2,3]}' },
    '/otherjson404': { status: 404, type: 'application/json', body: '{"message":"no route"}' },
    '/array': { status: 200, type: 'application/json', body: '[1,2]' },
  };
  let server: Server;
  let base = '';
  before(async () => {
    server = createServer((request, response) => {
      const answer = answers[`/${(request.url ?? '').split('/')[1]}`] ?? answers['/empty404']!;
      response.writeHead(answer.status, { 'content-type': answer.type }).end(answer.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address() as { port: number };
    base = `http://127.0.0.1:${address.port}`;
    t.after(() => new Promise((resolve) => server.close(resolve)));
  });

  for (const prefix of Object.keys(answers)) {
    it(`${prefix}: one line saying it is not a Kiln manager, non-zero exit`, async () => {
      for (const args of [
        ['jobs', 'ls'],
        ['workers', 'ls'],
      ]) {
        const result = await runKiln([...args, '--manager', `${base}${prefix}`]);
        assertOneLineError(result, /Kiln manager/);
      }
    });
  }
});
