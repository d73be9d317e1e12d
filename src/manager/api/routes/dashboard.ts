import { createReadStream } from 'node:fs';
import type { App } from '../app.js';
import { ApiError } from '../errors.js';
import {
  AuthStatus,
  ErrorBody,
  FarmCounts,
  FarmHistory,
  FarmHistoryQuery,
  IdParams,
  JobTimingList,
  NetworkServiceList,
  TaskRunList,
} from '../../../contract/index.js';
import type { HistoryService } from '../../history/history-service.js';
import type { JobVideo } from '../../history/job-video.js';
import type { NetworkServices } from '../../network-services.js';

export interface DashboardRouteDeps {
  history: Pick<HistoryService, 'counts' | 'history' | 'runs' | 'timings'>;
  network: Pick<NetworkServices, 'list'>;
  findVideo: (jobId: string) => Promise<JobVideo | undefined>;
  auth: { open: boolean; acceptsToken: (token: string) => Promise<boolean> };
}

/** What the web dashboard reads besides jobs, tasks and workers (contract/dashboard.ts). */
export function registerDashboardRoutes(api: App, deps: DashboardRouteDeps): void {
  api.get('/auth/status', { schema: { tags: ['dashboard'], response: { 200: AuthStatus } } }, async (request) => {
    if (deps.auth.open) return { open: true, authorized: true };
    const header = request.headers.authorization ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    return { open: false, authorized: token !== '' && (await deps.auth.acceptsToken(token)) };
  });

  api.get('/farm', { schema: { tags: ['dashboard'], response: { 200: FarmCounts } } }, async () =>
    deps.history.counts(),
  );

  api.get(
    '/farm/history',
    { schema: { tags: ['dashboard'], querystring: FarmHistoryQuery, response: { 200: FarmHistory, 400: ErrorBody } } },
    async (request) => deps.history.history(request.query.minutes ?? 60),
  );

  api.get('/job-timings', { schema: { tags: ['dashboard'], response: { 200: JobTimingList } } }, async () => ({
    timings: await deps.history.timings(),
  }));

  api.get(
    '/jobs/:id/runs',
    { schema: { tags: ['dashboard'], params: IdParams, response: { 200: TaskRunList, 404: ErrorBody } } },
    async (request) => ({ runs: await deps.history.runs(request.params.id) }),
  );

  api.get('/network/services', { schema: { tags: ['dashboard'], response: { 200: NetworkServiceList } } }, async () =>
    deps.network.list(),
  );

  registerVideoRoute(api, deps);
}

/** The job's video, with byte ranges so a browser can seek in it. */
function registerVideoRoute(api: App, deps: DashboardRouteDeps): void {
  api.get('/jobs/:id/video', { schema: { tags: ['dashboard'], params: IdParams } }, async (request, reply) => {
    const video = await deps.findVideo(request.params.id);
    if (!video) throw new ApiError(404, 'no_video', 'this job has no video the manager can read', 'id');
    const range = parseRange(request.headers.range, video.size);
    if (range === 'unsatisfiable') {
      void reply.header('content-range', `bytes */${video.size}`);
      throw new ApiError(416, 'bad_range', `the range is outside the video's ${video.size} bytes`, 'range');
    }
    const { start, end } = range ?? { start: 0, end: video.size - 1 };
    void reply
      .status(range ? 206 : 200)
      .type(video.contentType)
      .header('accept-ranges', 'bytes')
      .header('content-length', String(end - start + 1))
      .header('cache-control', 'no-cache');
    if (range) void reply.header('content-range', `bytes ${start}-${end}/${video.size}`);
    return reply.send(video.size === 0 ? '' : createReadStream(video.path, { start, end }));
  });
}

/** One `bytes=a-b`, `bytes=a-` or `bytes=-n` range; undefined for none (or several: the whole file). */
function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | 'unsatisfiable' | undefined {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header?.trim() ?? '');
  if (!match) return undefined;
  const [, from = '', to = ''] = match;
  if (from === '' && to === '') return undefined;
  let start: number;
  let end: number;
  if (from === '') {
    start = Math.max(0, size - Number(to));
    end = size - 1;
  } else {
    start = Number(from);
    end = to === '' ? size - 1 : Math.min(Number(to), size - 1);
  }
  if (start > end || start >= size) return 'unsatisfiable';
  return { start, end };
}
