import type { Db } from './schema/database.js';

/** The commands of a job's last completed video task (the one that encoded its video), if any. */
export async function fetchCompletedVideoCommands(db: Db, jobId: string): Promise<unknown[] | undefined> {
  const row = await db
    .selectFrom('task')
    .select('commands')
    .where('job_id', '=', jobId)
    .where('type', '=', 'video')
    .where('status', '=', 'completed')
    .orderBy('idx', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.commands;
}
