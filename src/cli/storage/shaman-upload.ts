import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { UserError } from '../../util/errors.js';
import type { HashedFile } from '../../storage/index.js';

export interface ManagerEndpoint {
  baseUrl: string;
  token?: string;
}

async function call<T>(
  endpoint: ManagerEndpoint,
  method: string,
  path: string,
  body?: unknown,
  init: RequestInit = {},
): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${endpoint.baseUrl}/api/v1${path}`, {
      method,
      ...init,
      headers: {
        ...(endpoint.token ? { authorization: `Bearer ${endpoint.token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(init.headers as Record<string, string> | undefined),
      },
      body: body !== undefined ? JSON.stringify(body) : init.body,
    });
  } catch (error) {
    throw new UserError(`cannot reach the manager at ${endpoint.baseUrl}: ${(error as Error).message}`);
  }
  const text = await response.text();
  const parsed = text ? (JSON.parse(text) as unknown) : undefined;
  if (!response.ok) {
    const error = (parsed as { error?: { message?: string; code?: string; field?: string } } | undefined)?.error;
    throw new UserError(`${error?.message ?? `${method} ${path} failed with ${response.status}`}`, {
      code: error?.code,
      field: error?.field,
    });
  }
  return parsed as T;
}

export interface StorageInfo {
  sharedStoragePath: string | null;
  storedPath: string | null;
  variables: unknown[];
  shaman: { enabled: boolean };
}

export const fetchStorageInfo = (endpoint: ManagerEndpoint, platform: string): Promise<StorageInfo> =>
  call(endpoint, 'GET', `/storage?platform=${platform}`);

export async function missingFiles(endpoint: ManagerEndpoint, files: readonly HashedFile[]): Promise<HashedFile[]> {
  const answer = await call<{ missing: Array<{ sha256: string; size: number; path: string }> }>(
    endpoint,
    'POST',
    '/shaman/checkout/requirements',
    {
      files: files.map(({ sha256, size, path }) => ({ sha256, size, path })),
    },
  );
  const byPath = new Map(files.map((file) => [file.path, file]));
  return answer.missing.map((m) => byPath.get(m.path)!).filter(Boolean);
}

/**
 * Uploads files several at once (each distinct content once), streamed from disk.
 * `beforeChunk` is where background uploads wait for the I/O priority gate.
 */
export async function uploadFiles(
  endpoint: ManagerEndpoint,
  root: string,
  files: readonly HashedFile[],
  options: { concurrency?: number; onUploaded?: (bytes: number) => void } = {},
): Promise<number> {
  const unique = new Map<string, HashedFile>();
  for (const file of files) unique.set(`${file.sha256}/${file.size}`, file);
  const queue = [...unique.values()];
  let uploaded = 0;
  const runOne = async (): Promise<void> => {
    for (let file = queue.shift(); file; file = queue.shift()) {
      const body = Readable.toWeb(
        createReadStream(join(root, file.path), { highWaterMark: 1024 * 1024 }),
      ) as unknown as NonNullable<RequestInit['body']>;
      const answer = await call<{ result: string }>(
        endpoint,
        'PUT',
        `/shaman/files/${file.sha256}/${file.size}`,
        undefined,
        {
          headers: { 'content-type': 'application/octet-stream', 'x-shaman-can-defer-upload': 'true' },
          body,
          duplex: 'half',
        } as RequestInit,
      );
      if (answer.result === 'stored') {
        uploaded += file.size;
        options.onUploaded?.(file.size);
      } else if (answer.result === 'deferred') {
        queue.push(file); // someone else is uploading it: check again at the end
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 4, queue.length || 1) }, runOne));
  return uploaded;
}

export const createShamanCheckout = (endpoint: ManagerEndpoint, checkoutPath: string, files: readonly HashedFile[]) =>
  call<{ checkoutPath: string; files: number; blobs: number }>(endpoint, 'POST', '/shaman/checkout/create', {
    checkoutPath,
    files: files.map(({ sha256, size, path }) => ({ sha256, size, path })),
  });
