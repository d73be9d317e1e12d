import type { ApiClient, Job, Worker } from '../client/index.js';
import { UserError } from '../util/errors.js';

/** Turning what a user typed (a full id, a unique prefix, a worker's name) into an id. */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (text: string): boolean => UUID.test(text);
const MIN_PREFIX = 4;
/** The API's largest page of jobs. */
const PAGE = 1000;

/**
 * A job's full id from a full id or a unique prefix of at least 4 characters. A full id is
 * returned as is (the manager says whether it exists); a prefix is matched against the job list.
 */
export async function resolveJobId(api: ApiClient, given: string): Promise<string> {
  const text = given.trim().toLowerCase();
  if (isUuid(text)) return text;
  if (!/^[0-9a-f-]+$/.test(text))
    throw new UserError(`"${given}" is not a job id (a UUID, or its first ${MIN_PREFIX}+ characters)`, { field: 'id' });
  if (text.length < MIN_PREFIX)
    throw new UserError(`give at least ${MIN_PREFIX} characters of the job id, got "${given}"`, { field: 'id' });
  const matches: Job[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const { jobs, total } = await api.listJobs({ limit: PAGE, offset });
    matches.push(...jobs.filter((job) => job.id.startsWith(text)));
    if (jobs.length < PAGE || offset + PAGE >= total) break;
  }
  const match = onlyOne(matches);
  if (match) return match.id;
  if (matches.length === 0)
    throw new UserError(`no job with an id starting with "${given}"`, { field: 'id', code: 'not_found' });
  const shown = matches
    .slice(0, 10)
    .map((job) => `${job.id} ${JSON.stringify(job.name)}`)
    .join(', ');
  throw new UserError(
    `job id "${given}" is ambiguous: ${matches.length} jobs match (${shown}${matches.length > 10 ? ', ...' : ''}); give more characters`,
    { field: 'id' },
  );
}

/**
 * A worker's id from its full id, its name, or a unique prefix of its id (4+ characters).
 * An exact name wins over an id prefix.
 */
export async function resolveWorkerId(api: ApiClient, given: string): Promise<string> {
  const text = given.trim();
  if (isUuid(text)) return text.toLowerCase();
  const { workers } = await api.listWorkers();
  const named = workers.filter((worker) => worker.name === text);
  const byName = onlyOne(named);
  if (byName) return byName.id;
  const list = (matches: Worker[]): string =>
    matches
      .slice(0, 10)
      .map((w) => `${w.id} ${JSON.stringify(w.name)}`)
      .join(', ');
  if (named.length > 1)
    throw new UserError(`${named.length} workers are named "${text}" (${list(named)}); give the id`, { field: 'id' });
  if (text.length < MIN_PREFIX || !/^[0-9a-f-]+$/i.test(text)) {
    throw new UserError(
      `no worker named "${text}" (give a worker's name, its id, or ${MIN_PREFIX}+ first characters of the id)`,
      { field: 'id', code: 'not_found' },
    );
  }
  const matches = workers.filter((worker) => worker.id.startsWith(text.toLowerCase()));
  const match = onlyOne(matches);
  if (match) return match.id;
  if (matches.length === 0)
    throw new UserError(`no worker named "${text}" or with an id starting with it`, { field: 'id', code: 'not_found' });
  throw new UserError(
    `worker id "${text}" is ambiguous: ${matches.length} workers match (${list(matches)}); give more characters`,
    { field: 'id' },
  );
}

/** The one item of a list of exactly one, or undefined. */
function onlyOne<T>(items: readonly T[]): T | undefined {
  return items.length === 1 ? items[0] : undefined;
}
