import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { useStandInManager } from '../testing/stand-in-manager.js';
import pino from 'pino';
import { freePort, makeTempDir } from '../testing/temp.js';
import { findWorkerManager, watchDiscoveredManager } from './manager-finder.js';

/** Generous: the gone manager's port refuses at once whatever it is; a loaded machine may answer late. */
const PROBE_MS = 10_000;

/** No DNS-SD here: tests never send mDNS on the host's interfaces (the namespaced test covers it). */
const env = { KILN_DNS_SD: 'off' };

describe('a worker finding its manager', () => {
  let port = 0;
  useStandInManager({ before, after }, (listening) => {
    port = listening;
  });

  const finder = (home: string) => ({ home, env, logger: pino({ level: 'silent' }), maxDelayMs: 200 });

  it('keeps looking until services.cfg names a manager that answers', async (t) => {
    const home = makeTempDir(t);
    const found = findWorkerManager(finder(home), new AbortController().signal);
    await new Promise((resolvePromise) => setTimeout(resolvePromise, 300));
    writeFileSync(join(home, 'services.cfg'), `[m]\nkind = manager\naddresses = 127.0.0.1\nports = http:${port}\n`);
    const manager = await found;
    assert.equal(manager?.url, `http://127.0.0.1:${port}`);
    assert.equal(manager?.source, 'services.cfg');
  });

  it('stops looking when told to', async (t) => {
    const controller = new AbortController();
    const found = findWorkerManager(finder(makeTempDir(t)), controller.signal);
    controller.abort();
    assert.equal(await found, undefined);
  });

  it('re-resolves after the discovered manager stops answering and moves to the one found now', async (t) => {
    const home = makeTempDir(t);
    const gone = await freePort();
    writeFileSync(join(home, 'services.cfg'), `[m]\nkind = manager\naddresses = 127.0.0.1\nports = http:${port}\n`);
    const moved = await new Promise<string>((resolvePromise) => {
      const stop = watchDiscoveredManager(
        `http://127.0.0.1:${gone}`,
        { ...finder(home), watch: { intervalMs: 20, failuresBeforeResolve: 3, probeTimeoutMs: PROBE_MS } },
        (next) => {
          stop();
          resolvePromise(next.url);
        },
      );
    });
    assert.equal(moved, `http://127.0.0.1:${port}`);
  });

  it('watches several discovered managers: while one answers, it stays', async (t) => {
    const home = makeTempDir(t);
    const gone = await freePort();
    writeFileSync(join(home, 'services.cfg'), `[m]\nkind = manager\naddresses = 127.0.0.1\nports = http:${port}\n`);
    let moved = false;
    const stop = watchDiscoveredManager(
      `http://127.0.0.1:${gone},http://127.0.0.1:${port}`,
      { ...finder(home), watch: { intervalMs: 20, failuresBeforeResolve: 3, probeTimeoutMs: PROBE_MS } },
      () => (moved = true),
    );
    await new Promise((resolvePromise) => setTimeout(resolvePromise, 400));
    stop();
    assert.equal(moved, false);
  });
});
