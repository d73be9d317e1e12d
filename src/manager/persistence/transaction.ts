import type { Db, Trx } from './schema/database.js';

/** SQLSTATEs after which the statement or transaction can simply run again. */
const RETRYABLE = new Set(['40001', '40P01']); // serialization failure, deadlock

/** Runs `run` again (up to `attempts` times in all) while it fails with a serialization failure or deadlock. */
export async function retrying<T>(run: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (!code || !RETRYABLE.has(code) || attempt >= attempts) throw error;
    }
  }
}

export function withTransaction<T>(db: Db, fn: (trx: Trx) => Promise<T>, attempts = 5): Promise<T> {
  return retrying(() => db.transaction().execute(fn), attempts);
}
