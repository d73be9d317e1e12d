import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiError, ManagerUnreachableError } from '../client/index.js';
import { UserError } from '../util/errors.js';
import { runKiln } from '../testing/cli.js';
import { freePort, makeTempDir } from '../testing/temp.js';
import { cliClient, explainManagerError, managerUrl, readApiToken, DEFAULT_MANAGER_URL } from './client.js';

const saved = { manager: process.env.KILN_MANAGER, token: process.env.KILN_TOKEN };
const restore = (name: string, value: string | undefined): void => {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
};
beforeEach(() => {
  delete process.env.KILN_MANAGER;
  delete process.env.KILN_TOKEN;
});
afterEach(() => {
  restore('KILN_MANAGER', saved.manager);
  restore('KILN_TOKEN', saved.token);
});

const apiError = (status: number, code: string, message: string, field?: string): ApiError =>
  new ApiError({ status, code, message, field, method: 'POST', url: 'http://farm:7780/api/v1/jobs' });
const where = { url: 'http://farm:7780', home: '/home/me/.kiln', token: undefined };

describe('which manager', () => {
  it('--manager, else KILN_MANAGER, else the local default; a bare host gets port 7780', () => {
    assert.equal(managerUrl({}), DEFAULT_MANAGER_URL);
    process.env.KILN_MANAGER = 'farm';
    assert.equal(managerUrl({}), 'http://farm:7780');
    assert.equal(managerUrl({ manager: 'render01:8000' }), 'http://render01:8000');
    assert.equal(cliClient({ manager: 'https://farm.example/' }).url, 'https://farm.example');
    assert.throws(() => cliClient({ manager: 'http://' }), /not a manager URL/);
    assert.equal(managerUrl({ manager: '[::1]' }), 'http://[::1]:7780');
    assert.equal(cliClient({ manager: 'farm' }).url, 'http://farm:7780');
    assert.equal(cliClient({ manager: 'farm' }).api.baseUrl, 'http://farm:7780/api/v1');
  });

  it('reads the API token from KILN_TOKEN, else <home>/api-token', (t) => {
    const home = makeTempDir(t);
    assert.equal(readApiToken(home), undefined);
    writeFileSync(join(home, 'api-token'), 'from-file\n');
    assert.deepEqual(readApiToken(home), { token: 'from-file', source: join(home, 'api-token') });
    process.env.KILN_TOKEN = 'from-env';
    assert.deepEqual(readApiToken(home), { token: 'from-env', source: 'KILN_TOKEN' });
  });
});

describe('manager errors become one-line messages', () => {
  it('names the field at fault, and the option behind it when the command says', () => {
    const error = explainManagerError(
      apiError(400, 'invalid_request', 'settings.width must be integer', 'settings.width'),
      where,
    );
    assert.ok(error instanceof UserError);
    assert.equal(error.message, 'settings.width must be an integer (field settings.width)');
    const hinted = explainManagerError(
      apiError(400, 'invalid_frames', 'range 10-1 runs backwards', 'frames'),
      where,
      () => 'field frames, from --frames',
    );
    assert.equal((hinted as Error).message, 'range 10-1 runs backwards (field frames, from --frames)');
    assert.equal(
      (explainManagerError(apiError(404, 'job_not_found', 'no job 123', 'id'), where) as Error).message,
      'no job 123',
    );
  });

  it('a 401 says how to get a token', () => {
    const none = explainManagerError(apiError(401, 'unauthorized', 'needs a token'), where) as Error;
    assert.match(none.message, /run `kiln manager token`.*\/home\/me\/\.kiln\/api-token.*KILN_TOKEN/);
    const refused = explainManagerError(apiError(401, 'unauthorized', 'needs a token'), {
      ...where,
      token: { token: 'x', source: 'KILN_TOKEN' },
    }) as Error;
    assert.match(refused.message, /refused the API token from KILN_TOKEN/);
  });

  it('an unreachable manager says where and how to fix it; other errors pass through', () => {
    const cause = Object.assign(new TypeError('fetch failed'), {
      cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:7780'), { code: 'ECONNREFUSED' }),
    });
    const error = explainManagerError(
      new ManagerUnreachableError('GET', 'http://farm:7780/api/v1/jobs', cause),
      where,
    ) as Error;
    assert.equal(
      error.message,
      'cannot reach the manager at http://farm:7780: connection refused (start it with `kiln manager` or pass --manager URL)',
    );
    // A change that reached the manager and got no answer: its outcome is unknown, and the line says how to check.
    const reset = Object.assign(new TypeError('fetch failed'), {
      cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }),
    });
    const unknown = (method: string, url: string, cause: unknown): string =>
      (explainManagerError(new ManagerUnreachableError(method, url, cause), where) as Error).message;
    assert.equal(
      unknown('POST', 'http://farm:7780/api/v1/jobs', reset),
      'POST /api/v1/jobs got no answer from the manager at http://farm:7780 (connection closed); it may or may not have been done, and it was not sent again: check with `kiln jobs ls` before running the command again',
    );
    const hung = new Error('no answer within 3001 ms, nor to GET /version within 3000 ms (the manager hangs)');
    assert.match(
      unknown('POST', 'http://farm:7780/api/v1/jobs/j-1/status', hung),
      /^POST \/api\/v1\/jobs\/j-1\/status got no answer .*\(no answer within 3001 ms, nor to GET \/version .*check with `kiln jobs show j-1`/,
    );
    assert.match(unknown('DELETE', 'http://farm:7780/api/v1/workers/w-1', hung), /check with `kiln workers ls`/);
    assert.match(unknown('POST', 'http://farm:7780/api/v1/shaman/gc', hung), /check the farm before/);
    const bug = new RangeError('oops');
    assert.equal(explainManagerError(bug, where), bug);
  });

  it('the real command: one line, exit 1, no stack', async () => {
    const port = await freePort();
    const result = await runKiln(['jobs', 'ls'], { env: { KILN_MANAGER: `http://127.0.0.1:${port}`, KILN_TOKEN: '' } });
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.equal(
      result.stderr,
      `kiln: cannot reach the manager at http://127.0.0.1:${port}: connection refused (start it with \`kiln manager\` or pass --manager URL)\n`,
    );
    // Several managers, none answering: the line names them all, and --verbose passes over each once.
    const other = await freePort();
    const both = `http://127.0.0.1:${port},http://127.0.0.1:${other}`;
    const several = await runKiln(['jobs', 'ls', '--verbose'], { env: { KILN_MANAGER: both, KILN_TOKEN: '' } });
    assert.equal(several.code, 1);
    const lines = several.stderr.trim().split('\n');
    assert.equal(
      lines.at(-1),
      `kiln: cannot reach any of the managers at http://127.0.0.1:${port}, http://127.0.0.1:${other}: connection refused (start it with \`kiln manager\` or pass --manager URL)`,
    );
    assert.deepEqual(lines.slice(0, -1), [
      `kiln: passed over the manager at http://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}; next: http://127.0.0.1:${other}`,
      `kiln: passed over the manager at http://127.0.0.1:${other}: connect ECONNREFUSED 127.0.0.1:${other}`,
    ]);
  });
});
