/**
 * The farm's schema: numbered migrations (migrations/, applied by the igniter's migration runner
 * in src/db/database.ts) and the row types the store reads and writes (tables.ts), side by side.
 */
export type * from './tables.js';
export type { Db, Trx } from './database.js';
export { MIGRATIONS } from './migrations/index.js';
