import type { App } from '../app.js';
import type { JobTypeRegistry } from '../../../jobs/index.js';
import { ApiError } from '../errors.js';
import { ErrorBody, JobTypeDetail, JobTypeList, NameParams, Version } from '../../../contract/index.js';

export interface MetaRouteDeps {
  version: string;
  /** This host's identity, reported in /version so a scanner can tell hosts apart. */
  host?: { uuid: string; name: string };
  registry: Pick<JobTypeRegistry, 'summaries' | 'detail'>;
  /** This manager among the farm's managers (its id, whether it leads, who does). */
  cluster?: () => { id: string; leader: boolean; leaderId?: string; leaderUrl?: string };
}

export function registerMetaRoutes(api: App, deps: MetaRouteDeps): void {
  api.get('/version', { schema: { tags: ['meta'], response: { 200: Version } } }, async () => ({
    name: 'kiln',
    version: deps.version,
    apiVersion: 1,
    ...(deps.host ? { hostUuid: deps.host.uuid, hostName: deps.host.name } : {}),
    ...(deps.cluster ? { manager: deps.cluster() } : {}),
  }));

  api.get('/job-types', { schema: { tags: ['job types'], response: { 200: JobTypeList } } }, async () => ({
    jobTypes: deps.registry
      .summaries()
      .map(({ name, label, description, etag }) => ({ name, label, description, etag })),
  }));

  api.get(
    '/job-types/:name',
    { schema: { tags: ['job types'], params: NameParams, response: { 200: JobTypeDetail, 404: ErrorBody } } },
    async (request, reply) => {
      const detail = deps.registry.detail(request.params.name);
      if (!detail) throw new ApiError(404, 'unknown_job_type', `unknown job type "${request.params.name}"`, 'name');
      void reply.header('etag', `"${detail.etag}"`);
      return detail;
    },
  );
}
