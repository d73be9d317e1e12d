import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { ApiClient } from '../client/api-client.js';
import { AuthenticationError, CredentialKeeper, credentialsPath, readCredentials } from './credentials.js';
import { FARM_SECRET, startFakeManager, type FakeManager } from './fake-manager.js';

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-credentials-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function keeper(
  home: string,
  manager: FakeManager,
  secret: string | undefined,
  afterReRegister?: () => Promise<unknown>,
): { keeper: CredentialKeeper; client: ApiClient } {
  const client = new ApiClient({ baseUrl: manager.url });
  return {
    client,
    keeper: new CredentialKeeper({
      home,
      client,
      registration: () => ({ name: 'w1', platform: 'linux', supportedTaskTypes: ['misc'] }),
      secret: () => secret,
      logger: pino({ level: 'silent' }),
      afterReRegister,
    }),
  };
}

describe('worker credentials', () => {
  it('registers once with the farm secret, stores the identity 0600, and reuses it', async (t) => {
    const home = await tempDir(t);
    const manager = await startFakeManager(t);
    const first = keeper(home, manager, FARM_SECRET);
    const identity = await first.keeper.ensure();
    assert.equal(manager.calls('/worker/register').length, 1);
    assert.equal(statSync(credentialsPath(home)).mode & 0o777, 0o600);
    assert.deepEqual(await readCredentials(home), identity);
    assert.equal(first.client.workerId, identity.id);
    assert.deepEqual(manager.calls('/worker/register')[0]?.json, {
      name: 'w1',
      platform: 'linux',
      supportedTaskTypes: ['misc'],
      secret: FARM_SECRET,
    });

    // A restart: no secret needed any more, no new registration.
    const second = keeper(home, manager, undefined);
    assert.equal((await second.keeper.ensure()).id, identity.id);
    await second.client.workerState();
    assert.equal(manager.calls('/worker/register').length, 1);
  });

  it('says what to do when there is neither an identity nor a secret, and when the secret is wrong', async (t) => {
    const manager = await startFakeManager(t);
    await assert.rejects(
      keeper(await tempDir(t), manager, undefined).keeper.ensure(),
      /no farm secret.*--secret.*KILN_WORKER_SECRET/,
    );
    await assert.rejects(
      keeper(await tempDir(t), manager, 'wrong').keeper.ensure(),
      (error: unknown) => error instanceof AuthenticationError && /wrong farm secret/.test(error.message),
    );
  });

  it('registers again once on 401, signs on, and carries on with the new identity', async (t) => {
    const home = await tempDir(t);
    const manager = await startFakeManager(t);
    let signedOn = 0;
    const { keeper: credentials, client } = keeper(home, manager, FARM_SECRET, async () => signedOn++);
    const old = await credentials.ensure();
    manager.workers.clear(); // the manager lost its workers (a new database)

    const state = await credentials.call(() => client.workerState());
    assert.deepEqual(state, { statusRequested: null, lazy: false });
    assert.equal(manager.calls('/worker/register').length, 2);
    assert.equal(signedOn, 1);
    const stored = await readCredentials(home);
    assert.notEqual(stored?.id, old.id);
    assert.equal(client.workerId, stored?.id);

    // Refused again right after registering: an error, not a loop of registrations.
    const refusing = keeper(await tempDir(t), manager, FARM_SECRET);
    await refusing.keeper.ensure();
    manager.server.handler = (_request, response) =>
      void response
        .writeHead(401, { 'content-type': 'application/json' })
        .end('{"error":{"code":"unauthorized","message":"no"}}');
    await assert.rejects(
      refusing.keeper.call(() => refusing.client.workerState()),
      AuthenticationError,
    );
  });
});
