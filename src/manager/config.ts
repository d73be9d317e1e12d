import { Type, type Static } from '@sinclair/typebox';

const Seconds = (description: string) => Type.Number({ exclusiveMinimum: 0, description });

/** `manager.yaml` / `KILN_MANAGER_*`. Durations are in seconds. */
export const ManagerConfigSchema = Type.Object(
  {
    listen: Type.String({ pattern: '^[^\\s]*:\\d{1,5}$', description: 'HOST:PORT, e.g. 0.0.0.0:7780' }),
    database_url: Type.Optional(Type.String({ minLength: 1 })),
    /** Trusted network: mutating user endpoints need no API token. */
    open: Type.Boolean(),
    /** Logs and previews; defaults to `<home>/manager`. */
    data: Type.Optional(Type.String({ minLength: 1 })),
    job_types_dir: Type.Optional(Type.String({ minLength: 1 })),
    task_timeout: Seconds('a task with no update for this long fails'),
    worker_timeout: Seconds('a worker unseen for this long goes to error'),
    timeout_check_interval: Seconds('how often timeouts are checked'),
    long_poll: Seconds('how long a worker waits for a task before asking again'),
    failure: Type.Object(
      {
        max_workers_per_task: Type.Integer({ minimum: 1, maximum: 100 }),
        blocklist_threshold: Type.Integer({ minimum: 1, maximum: 1000 }),
        job_fail_share: Type.Number({ exclusiveMinimum: 0, maximum: 1 }),
      },
      { additionalProperties: false },
    ),
    shared_storage_path: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);
export type ManagerConfig = Static<typeof ManagerConfigSchema>;

export const MANAGER_DEFAULTS: ManagerConfig = Object.freeze({
  listen: '0.0.0.0:7780',
  open: false,
  task_timeout: 10 * 60,
  // Workers heartbeat through their requests every few seconds; a minute of silence is a dead host.
  worker_timeout: 60,
  timeout_check_interval: 5,
  long_poll: 30,
  failure: Object.freeze({ max_workers_per_task: 3, blocklist_threshold: 3, job_fail_share: 0.1 }),
});

export function parseListen(listen: string): { host: string; port: number } {
  const index = listen.lastIndexOf(':');
  const host = listen.slice(0, index).replace(/^\[|\]$/g, '') || '0.0.0.0';
  return { host, port: Number(listen.slice(index + 1)) };
}
