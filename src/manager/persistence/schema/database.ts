import type { Kysely, Transaction } from 'kysely';
import type { Database } from './tables.js';

/** The farm database, and a transaction on it: store functions that need one say so in their type. */
export type Db = Kysely<Database>;
export type Trx = Transaction<Database>;
