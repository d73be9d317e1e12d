/**
 * A typed client of the manager's HTTP API (`/api/v1`), over the global fetch. One method per
 * endpoint, user side and worker side. Failures are typed: ApiError when the manager answered with
 * an error, ManagerUnreachableError when it could not be reached (see errors.ts).
 */
import {
  DEFAULT_REQUEST_TIMEOUT_MS,
  type ApiClientOptions,
  type CallOptions,
  type WorkerCredentials,
} from './client-options.js';
import { ProtocolError } from './errors.js';
import { DEFAULT_FIRST_ANSWER_MS, DEFAULT_PROBE_INTERVAL_MS } from './answer-watch.js';
import { StorageClient } from './storage-client.js';
import { longPoll, type TaskRequestResult } from './task-request.js';

export { apiBaseUrl } from './base-url.js';
export type {
  ApiClientOptions,
  CallOptions,
  WorkerCredentials,
} from './client-options.js';
import { HttpTransport, type Auth } from './http.js';
import { ManagerUrls } from './manager-urls.js';
import { readServerEvents, type ServerEvent } from './events.js';
import type {
  FinishTask,
  Blocklist,
  Job,
  JobAction,
  JobCheckResult,
  JobList,
  JobListQuery,
  JobTypeDetail,
  JobTypeList,
  LogTail,
  MayKeepRunning,
  RegisterWorker,
  RegisteredWorker,
  SignOn,
  SleepSchedule,
  SubmitJob,
  Task,
  TaskAction,
  TaskList,
  TaskUpdate,
  Version,
  Worker,
  WorkerControl,
  WorkerList,
  WorkerStateAnswer,
  WorkerStateChange,
} from './types.js';

export type { TaskRequestResult } from './task-request.js';

export type PreviewContentType = 'image/png' | 'image/jpeg';

const segment = (value: string): string => encodeURIComponent(value);

export class ApiClient {
  /** The managers this client may talk to (several managers of one farm). */
  readonly managers: ManagerUrls;
  #apiToken: string | undefined;
  #worker: WorkerCredentials | undefined;
  readonly #timeoutMs: number;
  readonly #http: HttpTransport;
  /** Shared storage and the Shaman store. */
  readonly storage: StorageClient;

  constructor(options: ApiClientOptions) {
    this.managers = new ManagerUrls(options.baseUrl, options.observer);
    this.#apiToken = options.apiToken;
    this.#worker = options.worker;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.#http = new HttpTransport({
      urls: this.managers,
      timeoutMs: this.#timeoutMs,
      firstAnswerMs: options.firstAnswerMs ?? DEFAULT_FIRST_ANSWER_MS,
      probeIntervalMs: options.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS,
      fetch: options.fetch ?? ((input, init) => fetch(input, init)),
      authorization: (auth) => this.#authorization(auth),
    });
    this.storage = new StorageClient(this.#http);
  }

  /** The manager calls go to now (with /api/v1). */
  get baseUrl(): string {
    return this.managers.current;
  }

  /** Credentials for the worker endpoints; changes when the worker registers again. */
  setWorkerCredentials(credentials: WorkerCredentials | undefined): void {
    this.#worker = credentials;
  }

  get workerId(): string | undefined {
    return this.#worker?.id;
  }

  setApiToken(token: string | undefined): void {
    this.#apiToken = token;
  }

  // ---- general

  version(options?: CallOptions): Promise<Version> {
    return this.#http.json({ method: 'GET', path: '/version', auth: 'none', expect: ['name', 'version'], ...options });
  }

  // ---- job types

  listJobTypes(options?: CallOptions): Promise<JobTypeList> {
    return this.#http.json({ method: 'GET', path: '/job-types', auth: 'user', expect: ['jobTypes'], ...options });
  }

  getJobType(name: string, options?: CallOptions): Promise<JobTypeDetail> {
    return this.#http.json({ method: 'GET', path: `/job-types/${segment(name)}`, auth: 'user', ...options });
  }

  // ---- jobs

  /** 201 with the job; 412 (ApiError) when `typeEtag` is stale. */
  submitJob(job: SubmitJob, options?: CallOptions): Promise<Job> {
    return this.#http.json({ method: 'POST', path: '/jobs', json: job, auth: 'user', ...options });
  }

  /** Compiles without storing: how many tasks, which ones. */
  checkJob(job: SubmitJob, options?: CallOptions): Promise<JobCheckResult> {
    return this.#http.json({ method: 'POST', path: '/jobs/check', json: job, auth: 'user', ...options });
  }

  listJobs(query: JobListQuery = {}, options?: CallOptions): Promise<JobList> {
    return this.#http.json({
      method: 'GET',
      path: '/jobs',
      query: { ...query },
      auth: 'user',
      expect: ['jobs', 'total'],
      ...options,
    });
  }

  getJob(id: string, options?: CallOptions): Promise<Job> {
    return this.#http.json({ method: 'GET', path: `/jobs/${segment(id)}`, auth: 'user', ...options });
  }

  /** `now` (pause only): stop running tasks at once instead of letting them finish. */
  async setJobStatus(
    id: string,
    action: JobAction,
    change: { reason?: string; now?: boolean } = {},
    options?: CallOptions,
  ): Promise<void> {
    const json = {
      action,
      ...(change.reason === undefined ? {} : { reason: change.reason }),
      ...(change.now ? { now: true } : {}),
    };
    await this.#http.call({ method: 'POST', path: `/jobs/${segment(id)}/status`, json, auth: 'user', ...options });
  }

  getBlocklist(id: string, options?: CallOptions): Promise<Blocklist> {
    return this.#http.json({ method: 'GET', path: `/jobs/${segment(id)}/blocklist`, auth: 'user', ...options });
  }

  /** Takes a worker off a job's blocklist (one task type, or all); answers the blocklist left. */
  removeFromBlocklist(id: string, workerId: string, taskType?: string, options?: CallOptions): Promise<Blocklist> {
    const json = taskType === undefined ? { workerId } : { workerId, taskType };
    return this.#http.json({
      method: 'POST',
      path: `/jobs/${segment(id)}/blocklist/remove`,
      json,
      auth: 'user',
      ...options,
    });
  }

  async setJobPriority(id: string, priority: number, options?: CallOptions): Promise<void> {
    await this.#http.call({
      method: 'POST',
      path: `/jobs/${segment(id)}/priority`,
      json: { priority },
      auth: 'user',
      ...options,
    });
  }

  async deleteJob(id: string, options?: CallOptions): Promise<void> {
    await this.#http.call({ method: 'DELETE', path: `/jobs/${segment(id)}`, auth: 'user', ...options });
  }

  // ---- tasks

  /** One page of a job's tasks in index order (the manager's default page is 1,000). */
  listTasks(
    jobId: string,
    options: CallOptions & { limit?: number | undefined; offset?: number | undefined } = {},
  ): Promise<TaskList> {
    const { limit, offset, ...call } = options;
    return this.#http.json({
      method: 'GET',
      path: `/jobs/${segment(jobId)}/tasks`,
      query: { limit, offset },
      auth: 'user',
      expect: ['tasks'],
      ...call,
    });
  }

  getTask(id: string, options?: CallOptions): Promise<Task> {
    return this.#http.json({ method: 'GET', path: `/tasks/${segment(id)}`, auth: 'user', ...options });
  }

  async setTaskStatus(id: string, action: TaskAction, options?: CallOptions): Promise<void> {
    await this.#http.call({
      method: 'POST',
      path: `/tasks/${segment(id)}/status`,
      json: { action },
      auth: 'user',
      ...options,
    });
  }

  taskLogTail(id: string, lines?: number, options?: CallOptions): Promise<LogTail> {
    return this.#http.json({
      method: 'GET',
      path: `/tasks/${segment(id)}/log/tail`,
      query: { lines },
      auth: 'user',
      ...options,
    });
  }

  /** The whole log as text. */
  async taskLog(id: string, options?: CallOptions): Promise<string> {
    const response = await this.#http.call({
      method: 'GET',
      path: `/tasks/${segment(id)}/log`,
      auth: 'user',
      ...options,
    });
    return this.#http.read(response, 'GET', () => response.text());
  }

  // ---- workers (user side)

  listWorkers(options?: CallOptions): Promise<WorkerList> {
    return this.#http.json({ method: 'GET', path: '/workers', auth: 'user', expect: ['workers'], ...options });
  }

  getWorker(id: string, options?: CallOptions): Promise<Worker> {
    return this.#http.json({ method: 'GET', path: `/workers/${segment(id)}`, auth: 'user', ...options });
  }

  async controlWorker(id: string, control: WorkerControl, options?: CallOptions): Promise<void> {
    await this.#http.call({
      method: 'POST',
      path: `/workers/${segment(id)}/status`,
      json: control,
      auth: 'user',
      ...options,
    });
  }

  async setWorkerTags(id: string, tags: string[], options?: CallOptions): Promise<void> {
    await this.#http.call({
      method: 'PUT',
      path: `/workers/${segment(id)}/tags`,
      json: { tags },
      auth: 'user',
      ...options,
    });
  }

  async setWorkerSleepSchedule(id: string, schedule: SleepSchedule, options?: CallOptions): Promise<void> {
    await this.#http.call({
      method: 'PUT',
      path: `/workers/${segment(id)}/sleep-schedule`,
      json: schedule,
      auth: 'user',
      ...options,
    });
  }

  async deleteWorker(id: string, options?: CallOptions): Promise<void> {
    await this.#http.call({ method: 'DELETE', path: `/workers/${segment(id)}`, auth: 'user', ...options });
  }

  // ---- live events

  /**
   * Server-Sent Events of job, task, worker and log changes (only one job's with `job`). Ends
   * when the manager closes the stream; stop it early with the signal or by leaving the loop.
   */
  async *events(
    options: CallOptions & { job?: string | undefined; lastEventId?: string | undefined } = {},
  ): AsyncGenerator<ServerEvent> {
    const response = await this.#http.call({
      method: 'GET',
      path: '/events',
      query: { job: options.job },
      auth: 'user',
      kind: 'stream',
      signal: options.signal,
      ...(options.lastEventId === undefined ? {} : { lastEventId: options.lastEventId }),
    });
    if (!response.body) throw new ProtocolError('the event stream has no body');
    yield* readServerEvents(response.body, options.signal);
  }

  // ---- worker side

  /** Registers with the farm's shared secret; 201 with the new identity. */
  registerWorker(registration: RegisterWorker, options?: CallOptions): Promise<RegisteredWorker> {
    return this.#http.json({ method: 'POST', path: '/worker/register', json: registration, auth: 'none', ...options });
  }

  signOn(signOn: SignOn, options?: CallOptions): Promise<WorkerStateAnswer> {
    return this.#http.json({ method: 'POST', path: '/worker/sign-on', json: signOn, auth: 'worker', ...options });
  }

  async signOff(options?: CallOptions): Promise<void> {
    await this.#http.call({ method: 'POST', path: '/worker/sign-off', auth: 'worker', ...options });
  }

  /** The status the manager asks of this worker; reading it changes nothing. */
  workerState(options?: CallOptions): Promise<WorkerStateAnswer> {
    return this.#http.json({ method: 'GET', path: '/worker/state', auth: 'worker', ...options });
  }

  /** Tells the manager the worker acted on a requested status (went to sleep, woke up). */
  async acknowledgeState(status: WorkerStateChange['status'], options?: CallOptions): Promise<void> {
    const json: WorkerStateChange = { status };
    await this.#http.call({ method: 'POST', path: '/worker/state', json, auth: 'worker', ...options });
  }

  /** The long poll: a task at once when there is one, else after up to `waitMs` nothing. */
  requestTask(options: CallOptions & { waitMs?: number } = {}): Promise<TaskRequestResult> {
    return longPoll(this.#http, '/worker/task', undefined, options, this.#timeoutMs);
  }

  /**
   * A task's last update and the long poll for the next task, in one round trip; answers like
   * requestTask. ApiError 409 when this worker does not hold the task (any more): nothing was
   * applied then, and no task was asked for.
   */
  finishTask(
    taskId: string,
    update: FinishTask,
    options: CallOptions & { waitMs?: number } = {},
  ): Promise<TaskRequestResult> {
    return longPoll(this.#http, `/worker/tasks/${segment(taskId)}/finish`, update, options, this.#timeoutMs);
  }

  /** 204; ApiError 409 when this worker does not hold the task (any more). */
  async updateTask(taskId: string, update: TaskUpdate, options?: CallOptions): Promise<void> {
    await this.#http.call({
      method: 'POST',
      path: `/worker/tasks/${segment(taskId)}/update`,
      json: update,
      auth: 'worker',
      ...options,
    });
  }

  mayIRun(taskId: string, options?: CallOptions): Promise<MayKeepRunning> {
    return this.#http.json({
      method: 'GET',
      path: `/worker/tasks/${segment(taskId)}/may-i-run`,
      auth: 'worker',
      ...options,
    });
  }

  /** A rendered image (PNG or JPEG, at most 25 MiB) as the task's latest preview. */
  async uploadPreview(
    taskId: string,
    image: Uint8Array,
    contentType: PreviewContentType,
    options?: CallOptions,
  ): Promise<void> {
    await this.#http.call({
      method: 'POST',
      path: `/worker/tasks/${segment(taskId)}/preview`,
      raw: { body: image, contentType },
      auth: 'worker',
      ...options,
    });
  }

  #authorization(auth: Auth): string | undefined {
    if (auth === 'user') return this.#apiToken ? `Bearer ${this.#apiToken}` : undefined;
    if (auth === 'worker' && this.#worker) {
      return `Basic ${Buffer.from(`${this.#worker.id}:${this.#worker.token}`, 'utf8').toString('base64')}`;
    }
    return undefined;
  }
}
