import { stat } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import type { Db } from '../persistence/schema/database.js';
import { fetchJob } from '../persistence/jobs.js';
import { fetchCompletedVideoCommands } from '../persistence/job-video.js';
import type { SharedStorage } from '../storage/shared-storage.js';
import { isInsideFolder } from '../../storage/job-storage.js';

const VIDEO_TYPES: Record<string, string> = {
  mp4: 'video/mp4',
  m4v: 'video/mp4',
  mov: 'video/quicktime',
  webm: 'video/webm',
  mkv: 'video/x-matroska',
};

export interface JobVideo {
  path: string;
  size: number;
  contentType: string;
}

/**
 * Where a job's video is on this host: the output of its completed video task's ffmpeg command,
 * translated to this host's form. Only a file with a video extension is served, and with shared
 * storage configured only one inside it; undefined while there is none (not made yet, or not
 * reachable from the manager's host).
 */
export async function findJobVideo(
  deps: { db: Db; storage: Pick<SharedStorage, 'path' | 'platform' | 'forPlatform'> },
  jobId: string,
): Promise<JobVideo | undefined> {
  await fetchJob(deps.db, jobId);
  const commands = (await fetchCompletedVideoCommands(deps.db, jobId)) ?? [];
  const stored = commands
    .map((command) => (command as { name?: string; parameters?: { output?: unknown } }) ?? {})
    .filter((command) => command.name === 'ffmpeg' && typeof command.parameters?.output === 'string')
    .map((command) => command.parameters?.output as string)
    .at(-1);
  if (!stored) return undefined;
  const path = deps.storage.forPlatform(stored, deps.storage.platform);
  const contentType = VIDEO_TYPES[path.split('.').pop()?.toLowerCase() ?? ''];
  if (!contentType || !isAbsolute(path)) return undefined;
  if (deps.storage.path && !isInsideFolder(path, deps.storage.path, deps.storage.platform)) return undefined;
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) return undefined;
  return { path, size: info.size, contentType };
}
