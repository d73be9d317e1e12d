import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Db } from '../persistence/schema/database.js';
import * as settings from '../persistence/settings.js';

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');
export const newToken = (): string => randomBytes(24).toString('base64url');

export function tokenMatches(token: string, hash: string): boolean {
  const a = Buffer.from(hashToken(token), 'hex');
  const b = Buffer.from(hash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The farm secret workers register with; made once, at the first start. */
export function ensureFarmSecret(db: Db): Promise<string> {
  return settings.ensureFarmSecret(db, newToken());
}

/** Creates a new API token for users (CLI, dashboard); only its hash is kept. */
export async function createApiToken(db: Db, label: string, now = new Date()): Promise<string> {
  const token = newToken();
  await settings.addApiToken(db, { hash: hashToken(token), label, createdAt: now.toISOString() });
  return token;
}

/** Does this bearer token match one of the farm's API tokens? */
export async function acceptsApiToken(db: Db, token: string): Promise<boolean> {
  if (!token) return false;
  const hashes = await settings.listApiTokenHashes(db);
  return hashes.some((hash) => tokenMatches(token, hash));
}
