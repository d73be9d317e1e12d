import { sql } from 'kysely';
import type { Db } from './schema/database.js';

/** Installation-wide settings (table kiln_setting): the farm secret and the API tokens' hashes. */

const FARM_SECRET = 'farm_secret';
const API_TOKENS = 'api_tokens';

export interface ApiTokenEntry {
  hash: string;
  label: string;
  createdAt: string;
}

async function readSetting<T>(db: Db, key: string): Promise<T | undefined> {
  const row = await db.selectFrom('kiln_setting').select('value').where('key', '=', key).executeTakeFirst();
  return row?.value as T | undefined;
}

/** The farm secret: `candidate` is stored when there is none yet (first start); the stored one is returned. */
export async function ensureFarmSecret(db: Db, candidate: string): Promise<string> {
  await db
    .insertInto('kiln_setting')
    .values({ key: FARM_SECRET, value: JSON.stringify(candidate) })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  const secret = await readSetting<string>(db, FARM_SECRET);
  if (secret === undefined) throw new Error('the farm secret is missing right after it was stored');
  return secret;
}

/**
 * Appends one API token's entry in a single statement: two tokens created at once both
 * survive (no read-modify-write between them).
 */
export async function addApiToken(db: Db, entry: ApiTokenEntry): Promise<void> {
  await sql`
    INSERT INTO kiln_setting (key, value) VALUES (${API_TOKENS}, jsonb_build_array(${JSON.stringify(entry)}::jsonb))
    ON CONFLICT (key) DO UPDATE SET value = kiln_setting.value || excluded.value, updated_at = now()`.execute(db);
}

export async function listApiTokenHashes(db: Db): Promise<string[]> {
  return ((await readSetting<ApiTokenEntry[]>(db, API_TOKENS)) ?? []).map((entry) => entry.hash);
}
