import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../persistence/schema/database.js';

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');
export const newToken = (): string => randomBytes(24).toString('base64url');

export function tokenMatches(token: string, hash: string): boolean {
  const a = Buffer.from(hashToken(token), 'hex');
  const b = Buffer.from(hash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

async function readSetting<T>(db: Db, key: string): Promise<T | undefined> {
  const row = await db.selectFrom('kiln_setting').select('value').where('key', '=', key).executeTakeFirst();
  return row?.value as T | undefined;
}

/** The farm secret workers register with; made once, at the first start. */
export async function ensureFarmSecret(db: Db): Promise<string> {
  await sql`INSERT INTO kiln_setting (key, value) VALUES ('farm_secret', ${JSON.stringify(newToken())}::jsonb) ON CONFLICT (key) DO NOTHING`.execute(
    db,
  );
  return (await readSetting<string>(db, 'farm_secret'))!;
}

/** Creates a new API token for users (CLI, dashboard); only its hash is kept. */
export async function createApiToken(db: Db, label: string): Promise<string> {
  const token = newToken();
  const hashes = (await readSetting<Array<{ hash: string; label: string; createdAt: string }>>(db, 'api_tokens')) ?? [];
  hashes.push({ hash: hashToken(token), label, createdAt: new Date().toISOString() });
  await sql`INSERT INTO kiln_setting (key, value) VALUES ('api_tokens', ${JSON.stringify(hashes)}::jsonb)
            ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = now()`.execute(db);
  return token;
}

export async function apiTokenHashes(db: Db): Promise<string[]> {
  return ((await readSetting<Array<{ hash: string }>>(db, 'api_tokens')) ?? []).map((entry) => entry.hash);
}
