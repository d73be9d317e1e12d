import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { useFileCluster } from '../../../../testing/cluster.js';
import { createTestDatabase } from '../../../../testing/farm.js';
import { createKysely, migrateToLatest } from '../../../../db/database.js';

const cluster = useFileCluster({ before, after });

test('tasks need an existing job, checked once per statement; deleting jobs deletes their tasks', async (t) => {
  const pool = new pg.Pool({ connectionString: await createTestDatabase(cluster()), max: 2 });
  const db = createKysely(pool);
  t.after(() => db.destroy());
  await migrateToLatest(db);
  const job = async (id: string) =>
    pool.query(
      `INSERT INTO job (id, name, type, type_etag, priority, status, settings, metadata) VALUES ($1, 'j', 'echo-sleep', 'e', 50, 'queued', '{}', '{}')`,
      [id],
    );
  const tasks = (jobId: string, count: number) =>
    pool.query(
      `INSERT INTO task (id, job_id, idx, name, type, priority, status, commands, job_priority, job_created_at)
       SELECT gen_random_uuid(), $1, i, 'frame ' || i, 'misc', 50, 'queued', '[]', 50, now() FROM generate_series(1, $2::int) i`,
      [jobId, count],
    );
  const a = '00000000-0000-7000-8000-00000000000a';
  const b = '00000000-0000-7000-8000-00000000000b';
  await job(a);
  await job(b);
  await tasks(a, 1000);
  await tasks(b, 10);
  await assert.rejects(
    tasks('00000000-0000-7000-8000-0000000000ff', 3),
    (error: { code?: string; constraint?: string }) =>
      error.code === '23503' && error.constraint === 'task_job_id_check',
  );
  await assert.rejects(
    pool.query(
      `INSERT INTO task (id, job_id, idx, name, type, priority, status, commands, job_priority, job_created_at)
                VALUES (gen_random_uuid(), $1, 5000, 'x', 'misc', 50, 'queued', '[]', 50, now()), (gen_random_uuid(), '00000000-0000-7000-8000-0000000000ff', 1, 'y', 'misc', 50, 'queued', '[]', 50, now())`,
      [a],
    ),
    /violates its job reference/,
    'one missing job fails the whole statement',
  );
  const count = async (jobId: string) =>
    Number((await pool.query('SELECT count(*) FROM task WHERE job_id = $1', [jobId])).rows[0].count);
  assert.equal(await count(a), 1000, 'the refused statements stored nothing');
  await pool.query('DELETE FROM job WHERE id = $1', [a]);
  assert.equal(await count(a), 0);
  assert.equal(await count(b), 10, 'other jobs keep their tasks');
});
