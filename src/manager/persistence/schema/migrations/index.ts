import type { Migration } from 'kysely';
import * as m0001 from './0001_settings.js';
import * as m0002 from './0002_farm.js';
import * as m0003 from './0003_update_seq.js';
import * as m0004 from './0004_task_job_check.js';
import * as m0005 from './0005_task_commands_json.js';
import * as m0006 from './0006_worker_tags_set_by_user.js';
import * as m0007 from './0007_dashboard_history.js';
import * as m0008 from './0008_task_touch_without_index.js';

/**
 * Every migration, in order. Names start with a 4-digit number: the schema version is
 * the number of the newest applied one. Add new files here; never edit an applied one.
 */
export const MIGRATIONS: Record<string, Migration> = {
  '0001_settings': m0001,
  '0002_farm': m0002,
  '0003_update_seq': m0003,
  '0004_task_job_check': m0004,
  '0005_task_commands_json': m0005,
  '0006_worker_tags_set_by_user': m0006,
  '0007_dashboard_history': m0007,
  '0008_task_touch_without_index': m0008,
};
