import type {
  AuthStatus,
  Blocklist,
  ErrorBody,
  FarmCounts,
  FarmHistory,
  Job,
  JobAction,
  JobList,
  JobTimingList,
  LogTail,
  NetworkServiceList,
  SleepSchedule,
  Task,
  TaskActionName,
  TaskList,
  TaskRunList,
  Worker,
  WorkerControl,
  WorkerList,
} from '../../../src/contract/index.js';
import { askForToken, authHeaders } from './auth.js';

/** The manager's API, typed by its contract (src/contract): every call the dashboard makes. */

export const API = '/api/v1';

/** An API refusal, with the server's code, message and field. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { ...authHeaders() };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${API}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  const parsed = text ? (JSON.parse(text) as unknown) : undefined;
  if (!response.ok) {
    const error = (parsed as ErrorBody | undefined)?.error;
    if (response.status === 401) askForToken(error?.message ?? 'the manager wants an API token');
    throw new ApiFailure(response.status, error?.code ?? 'http_error', error?.message ?? `HTTP ${response.status}`);
  }
  return parsed as T;
}

const PAGE = 1000;

/** Every page of a list, in order. */
async function allPages<T>(fetchPage: (offset: number) => Promise<{ items: T[]; total: number }>): Promise<T[]> {
  const all: T[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const { items, total } = await fetchPage(offset);
    all.push(...items);
    if (items.length < PAGE || all.length >= total) return all;
  }
}

export const api = {
  authStatus: () => call<AuthStatus>('GET', '/auth/status'),
  jobs: () =>
    allPages(async (offset) => {
      const page = await call<JobList>('GET', `/jobs?limit=${PAGE}&offset=${offset}`);
      return { items: page.jobs, total: page.total };
    }),
  job: (id: string) => call<Job>('GET', `/jobs/${id}`),
  jobTasks: (id: string) =>
    allPages(async (offset) => {
      const page = await call<TaskList>('GET', `/jobs/${id}/tasks?limit=${PAGE}&offset=${offset}`);
      return { items: page.tasks, total: page.total };
    }),
  jobRuns: (id: string) => call<TaskRunList>('GET', `/jobs/${id}/runs`),
  jobTimings: () => call<JobTimingList>('GET', '/job-timings'),
  blocklist: (id: string) => call<Blocklist>('GET', `/jobs/${id}/blocklist`),
  unblock: (id: string, workerId: string) => call<Blocklist>('POST', `/jobs/${id}/blocklist/remove`, { workerId }),
  jobAction: (id: string, action: JobAction) => call<Job>('POST', `/jobs/${id}/status`, { action }),
  setPriority: (id: string, priority: number) => call<Job>('POST', `/jobs/${id}/priority`, { priority }),
  deleteJob: (id: string) => call<undefined>('DELETE', `/jobs/${id}`),
  task: (id: string) => call<Task>('GET', `/tasks/${id}`),
  taskAction: (id: string, action: TaskActionName) => call<Task>('POST', `/tasks/${id}/status`, { action }),
  logTail: (id: string, lines: number) => call<LogTail>('GET', `/tasks/${id}/log/tail?lines=${lines}`),
  workers: () =>
    allPages(async (offset) => {
      const page = await call<WorkerList>('GET', `/workers?limit=${PAGE}&offset=${offset}`);
      return { items: page.workers, total: page.total };
    }),
  worker: (id: string) => call<Worker>('GET', `/workers/${id}`),
  workerControl: (id: string, control: WorkerControl) => call<Worker>('POST', `/workers/${id}/status`, control),
  setTags: (id: string, tags: string[]) => call<Worker>('PUT', `/workers/${id}/tags`, { tags }),
  setSleepSchedule: (id: string, schedule: SleepSchedule) =>
    call<Worker>('PUT', `/workers/${id}/sleep-schedule`, schedule),
  farm: () => call<FarmCounts>('GET', '/farm'),
  farmHistory: (minutes: number) => call<FarmHistory>('GET', `/farm/history?minutes=${minutes}`),
  network: () => call<NetworkServiceList>('GET', '/network/services'),
};

/** Addresses the page loads directly (images, video, the log download): GETs that need no token. */
export const urls = {
  preview: (jobId: string, size: 'small' | 'medium' | 'large', version: number) =>
    `${API}/jobs/${jobId}/preview?size=${size}&v=${version}`,
  video: (jobId: string) => `${API}/jobs/${jobId}/video`,
  log: (taskId: string) => `${API}/tasks/${taskId}/log`,
};
