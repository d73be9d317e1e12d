import { ensureHostIdentity } from '../config/host-identity.js';
import { collectServices } from '../discovery/collect-services.js';
import type { NetworkServiceList } from '../contract/index.js';
import { SECOND } from '../util/time.js';

/** One look takes this long; answers are reused for CACHE_MS so that many open pages cost one look. */
const LOOK_MS = 1 * SECOND;
const CACHE_MS = 5 * SECOND;

/**
 * The Kiln services the manager's host knows (as `kiln services map` lists them): multicast,
 * DNS-SD and services.cfg, merged, for the dashboard's Network page.
 */
export class NetworkServices {
  #last: { at: number; answer: Promise<NetworkServiceList> } | undefined;

  constructor(private readonly home: string) {}

  list(): Promise<NetworkServiceList> {
    const now = Date.now();
    if (this.#last && now - this.#last.at < CACHE_MS) return this.#last.answer;
    const answer = this.#look();
    this.#last = { at: now, answer };
    answer.catch(() => {
      this.#last = undefined;
    });
    return answer;
  }

  async #look(): Promise<NetworkServiceList> {
    const network = await ensureHostIdentity(this.home);
    const result = await collectServices({ home: this.home, network, timeoutMs: LOOK_MS });
    const now = Date.now();
    return {
      services: result.entries.map((entry) => ({
        kind: entry.kind,
        host: entry.host,
        uuid: entry.uuid,
        addresses: entry.addresses,
        ports: entry.ports,
        version: entry.version,
        source: entry.source,
        sources: entry.sources,
        ageMs: Math.max(0, Math.round(now - entry.seenAt)),
      })),
      sources: result.sources,
      problems: result.problems,
    };
  }
}
