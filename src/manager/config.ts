import { Type, type Static } from '@sinclair/typebox';
import { TwoWayVariableSchema } from '../storage/paths.js';
import { UserError } from '../util/errors.js';
import { DEFAULT_MANAGER_PORT } from '../config/ports.js';

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
    /** Waiting workers are also served on this period, besides every wake-up (a safety net). */
    dispatch_poll_interval: Seconds('how often waiting workers are served without a wake-up'),
    failure: Type.Object(
      {
        max_workers_per_task: Type.Integer({ minimum: 1, maximum: 100 }),
        blocklist_threshold: Type.Integer({ minimum: 1, maximum: 1000 }),
        job_fail_share: Type.Number({ exclusiveMinimum: 0, maximum: 1 }),
      },
      { additionalProperties: false },
    ),
    /** Where every worker reads a job's input and writes its output (this host's form of it). */
    shared_storage_path: Type.Optional(Type.String({ minLength: 1 })),
    /** Two-way variables: one prefix per platform and audience, e.g. {farm} = /mnt/farm | S:\\. */
    variables: Type.Array(TwoWayVariableSchema),
    /** How the manager makes itself known on the network. */
    discovery: Type.Object(
      {
        /** Multicast self-discovery (network.cfg): announce the manager (its database has its own announcer). */
        enabled: Type.Boolean(),
        /** Register `_kiln-manager._tcp` over DNS-SD (`_kiln-db._tcp` is the database announcer's). */
        dns_sd: Type.Boolean(),
      },
      { additionalProperties: false },
    ),
    shaman: Type.Object(
      {
        enabled: Type.Boolean(),
        gc: Type.Object(
          {
            period: Seconds('how often unreferenced blobs are collected'),
            max_age: Seconds('unreferenced blobs older than this are removed'),
          },
          { additionalProperties: false },
        ),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type ManagerConfig = Static<typeof ManagerConfigSchema>;

export const MANAGER_DEFAULTS: ManagerConfig = Object.freeze({
  listen: `0.0.0.0:${DEFAULT_MANAGER_PORT}`,
  open: false,
  task_timeout: 10 * 60,
  // Workers heartbeat through their requests every few seconds; a minute of silence is a dead host.
  worker_timeout: 60,
  timeout_check_interval: 5,
  long_poll: 30,
  // Wake-ups (also from the other managers, over NOTIFY) serve waiting workers at once; this is the net below.
  dispatch_poll_interval: 1,
  failure: Object.freeze({ max_workers_per_task: 3, blocklist_threshold: 3, job_fail_share: 0.1 }),
  variables: [],
  // On for real runs; tests turn both off (src/testing/farm.ts): they never send multicast on the host.
  discovery: Object.freeze({ enabled: true, dns_sd: true }),
  shaman: Object.freeze({ enabled: false, gc: Object.freeze({ period: 3600, max_age: 7 * 24 * 3600 }) }),
});

export function parseListen(listen: string): { host: string; port: number } {
  const index = listen.lastIndexOf(':');
  const host = listen.slice(0, index).replace(/^\[|\]$/g, '') || '0.0.0.0';
  const port = Number(listen.slice(index + 1));
  if (index < 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UserError(`manager.listen: "${listen}" is not HOST:PORT with a port from 0 to 65535`, {
      field: 'manager.listen',
      code: 'invalid_config',
    });
  }
  return { host, port };
}
