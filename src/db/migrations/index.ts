import type { Migration } from 'kysely';
import * as m0001 from './0001_settings.js';

/**
 * Every migration, in order. Names start with a 4-digit number: the schema version is
 * the number of the newest applied one. Add new files here; never edit an applied one.
 */
export const MIGRATIONS: Record<string, Migration> = {
  '0001_settings': m0001,
};
