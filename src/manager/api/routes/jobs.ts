import { Type } from '@sinclair/typebox';
import type { App } from '../app.js';
import { ApiError } from '../errors.js';
import {
  Blocklist,
  ErrorBody,
  IdParams,
  Job,
  JobCheckResult,
  JobList,
  JobListQuery,
  PageQuery,
  SetJobStatus,
  SetPriority,
  SubmitJob,
  TaskList,
  Unblock,
} from '../../../contract/index.js';
import { checkSubmission } from '../submission-guard.js';
import type { SharedStorageView } from '../../../storage/job-storage.js';
import { toBlocklist, toJob, toTask } from '../present.js';
import type { JobService } from '../../jobs/job-service.js';
import type { TaskOutputs } from '../../tasks/task-outputs.js';
import { JOB_STATUSES } from '../../state/statuses.js';
import { PREVIEW_SIZES, type PreviewSize } from '../../previews.js';

const errors = { 400: ErrorBody, 404: ErrorBody, 409: ErrorBody, 412: ErrorBody, 413: ErrorBody };

export interface JobRouteDeps {
  jobs: Pick<
    JobService,
    'submit' | 'compile' | 'list' | 'get' | 'act' | 'blocklist' | 'unblock' | 'setPriority' | 'delete' | 'tasks'
  >;
  /** Where submitted files may be (a submission's storage record is checked against it). */
  storage: SharedStorageView;
  outputs: Pick<TaskOutputs, 'preview'>;
}

export function registerJobRoutes(api: App, deps: JobRouteDeps): void {
  const user = { preHandler: api.requireUser };

  api.post(
    '/jobs',
    { ...user, schema: { tags: ['jobs'], body: SubmitJob, response: { 201: Job, ...errors } } },
    async (request, reply) => {
      checkSubmission(request.body, deps.storage);
      const row = await deps.jobs.submit(request.body);
      return reply.status(201).send(toJob(row));
    },
  );

  api.post(
    '/jobs/check',
    { schema: { tags: ['jobs'], body: SubmitJob, response: { 200: JobCheckResult, ...errors } } },
    async (request) => {
      checkSubmission(request.body, deps.storage);
      const { tasks } = deps.jobs.compile(request.body);
      return {
        ok: true,
        taskCount: tasks.length,
        tasks: tasks.slice(0, 1000).map((t) => ({ name: t.name, type: t.type, dependsOn: t.dependsOn })),
      };
    },
  );

  api.get(
    '/jobs',
    { schema: { tags: ['jobs'], querystring: JobListQuery, response: { 200: JobList, 400: ErrorBody } } },
    async (request) => {
      const statuses = request.query.status
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const unknown = statuses?.find((s) => !(JOB_STATUSES as readonly string[]).includes(s));
      if (unknown)
        throw new ApiError(
          400,
          'invalid_request',
          `unknown job status "${unknown}"; known: ${JOB_STATUSES.join(', ')}`,
          'status',
        );
      const { rows, total } = await deps.jobs.list({
        statuses,
        type: request.query.type,
        tag: request.query.tag,
        limit: request.query.limit ?? 100,
        offset: request.query.offset ?? 0,
      });
      return { jobs: rows.map(toJob), total };
    },
  );

  api.get(
    '/jobs/:id',
    { schema: { tags: ['jobs'], params: IdParams, response: { 200: Job, 404: ErrorBody } } },
    async (request) => toJob(await deps.jobs.get(request.params.id)),
  );

  registerJobControlRoutes(api, deps);
  registerJobOutputRoutes(api, deps);
}

/** A user's actions on a job: its status, blocklist, priority, deletion. */
function registerJobControlRoutes(api: App, deps: JobRouteDeps): void {
  const user = { preHandler: api.requireUser };

  api.post(
    '/jobs/:id/status',
    { ...user, schema: { tags: ['jobs'], params: IdParams, body: SetJobStatus, response: { 200: Job, ...errors } } },
    async (request) =>
      toJob(
        await deps.jobs.act(request.params.id, request.body.action, {
          reason: request.body.reason,
          now: request.body.now,
        }),
      ),
  );

  api.get(
    '/jobs/:id/blocklist',
    { schema: { tags: ['jobs'], params: IdParams, response: { 200: Blocklist, 404: ErrorBody } } },
    async (request) => toBlocklist(await deps.jobs.blocklist(request.params.id)),
  );

  api.post(
    '/jobs/:id/blocklist/remove',
    { ...user, schema: { tags: ['jobs'], params: IdParams, body: Unblock, response: { 200: Blocklist, ...errors } } },
    async (request) =>
      toBlocklist(await deps.jobs.unblock(request.params.id, request.body.workerId, request.body.taskType)),
  );

  api.post(
    '/jobs/:id/priority',
    { ...user, schema: { tags: ['jobs'], params: IdParams, body: SetPriority, response: { 200: Job, ...errors } } },
    async (request) => toJob(await deps.jobs.setPriority(request.params.id, request.body.priority)),
  );

  api.delete(
    '/jobs/:id',
    { ...user, schema: { tags: ['jobs'], params: IdParams, response: { 204: Type.Null(), ...errors } } },
    async (request, reply) => {
      await deps.jobs.delete(request.params.id);
      return reply.status(204).send(null);
    },
  );
}

/** What a job is made of and what it made: its tasks, page by page, and its latest preview. */
function registerJobOutputRoutes(api: App, deps: JobRouteDeps): void {
  api.get(
    '/jobs/:id/tasks',
    {
      schema: {
        tags: ['tasks'],
        params: IdParams,
        querystring: PageQuery,
        response: { 200: TaskList, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) => {
      const { tasks, total } = await deps.jobs.tasks(request.params.id, {
        limit: request.query.limit ?? 1000,
        offset: request.query.offset ?? 0,
      });
      return { tasks: tasks.map(({ row, dependsOn }) => toTask(row, dependsOn)), total };
    },
  );

  api.get(
    '/jobs/:id/preview',
    {
      schema: {
        tags: ['jobs'],
        params: IdParams,
        querystring: Type.Object({
          size: Type.Optional(Type.Union(Object.keys(PREVIEW_SIZES).map((s) => Type.Literal(s)))),
        }),
      },
    },
    async (request, reply) => {
      const image = await deps.outputs.preview(request.params.id, (request.query.size ?? 'medium') as PreviewSize);
      if (!image) throw new ApiError(404, 'no_preview', 'this job has no preview yet', 'id');
      return reply.type('image/jpeg').send(image);
    },
  );
}
