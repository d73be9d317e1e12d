import type { Job, JobTiming } from '../../../src/contract/index.js';
import { estimateEnd, jobProgress } from './format.js';

/** The jobs table's filter and sort, read from and written to the address (?status=&type=&q=&sort=). */
export interface JobsFilter {
  /** Statuses to show; empty shows all. */
  statuses: string[];
  type: string;
  /** Words that must all appear in the name, id, type or tag. */
  search: string;
  sort: JobSortKey;
  descending: boolean;
}

const JOB_SORT_KEYS = ['name', 'status', 'progress', 'priority', 'type', 'created', 'started', 'eta'] as const;
export type JobSortKey = (typeof JOB_SORT_KEYS)[number];

export function filterFromQuery(query: Record<string, string>): JobsFilter {
  const sort = (JOB_SORT_KEYS as readonly string[]).includes(query.sort ?? '') ? (query.sort as JobSortKey) : 'created';
  return {
    statuses: (query.status ?? '').split(',').filter(Boolean),
    type: query.type ?? '',
    search: query.q ?? '',
    sort,
    descending: query.dir ? query.dir === 'desc' : sort === 'created',
  };
}

export function filterToQuery(filter: JobsFilter): Record<string, string | undefined> {
  return {
    status: filter.statuses.join(',') || undefined,
    type: filter.type || undefined,
    q: filter.search || undefined,
    sort: filter.sort === 'created' ? undefined : filter.sort,
    dir: filter.descending === (filter.sort === 'created') ? undefined : filter.descending ? 'desc' : 'asc',
  };
}

export function applyJobsFilter(
  jobs: readonly Job[],
  filter: JobsFilter,
  timings: ReadonlyMap<string, JobTiming>,
  now: number,
): Job[] {
  const words = filter.search.toLowerCase().split(/\s+/).filter(Boolean);
  const statuses = new Set(filter.statuses);
  const shown = jobs.filter((job) => {
    if (statuses.size && !statuses.has(job.status)) return false;
    if (filter.type && job.type !== filter.type) return false;
    if (words.length === 0) return true;
    const text = `${job.name} ${job.id} ${job.type} ${job.tag ?? ''} ${job.status}`.toLowerCase();
    return words.every((word) => text.includes(word));
  });
  const key = sortKeyOf(filter.sort, timings, now);
  const sign = filter.descending ? -1 : 1;
  return shown.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    const order = typeof ka === 'string' ? ka.localeCompare(kb as string) : (ka as number) - (kb as number);
    return sign * order || b.createdAt.localeCompare(a.createdAt);
  });
}

function sortKeyOf(
  sort: JobSortKey,
  timings: ReadonlyMap<string, JobTiming>,
  now: number,
): (job: Job) => string | number {
  switch (sort) {
    case 'name':
      return (job) => job.name.toLowerCase();
    case 'status':
      return (job) => job.status;
    case 'progress':
      return jobProgress;
    case 'priority':
      return (job) => job.priority;
    case 'type':
      return (job) => job.type;
    case 'started':
      return (job) => timings.get(job.id)?.startedAt ?? '';
    case 'eta':
      return (job) => estimateEnd(job, timings.get(job.id)?.startedAt, now) ?? Number.MAX_SAFE_INTEGER;
    default:
      return (job) => job.createdAt;
  }
}
