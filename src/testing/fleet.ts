/**
 * Fills a manager with many jobs and signed-on workers over its real API, a few requests at a
 * time: the dashboard's scale test and benchmark (1,000 jobs, 500 workers) start from this.
 */
async function inLanes<T>(count: number, lanes: number, one: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(lanes, count) }, async () => {
      while (next < count) {
        const index = next++;
        results[index] = await one(index);
      }
    }),
  );
  return results;
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<unknown> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`POST ${url}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** `count` workers named worker-000..., registered and signed on (they then ask for nothing). */
export async function addWorkers(managerUrl: string, farmSecret: string, count: number): Promise<void> {
  const api = `${managerUrl}/api/v1`;
  await inLanes(count, 8, async (index) => {
    const name = `worker-${String(index).padStart(3, '0')}`;
    const about = { name, platform: 'linux', supportedTaskTypes: ['misc'], tags: index % 3 ? [] : ['gpu'] };
    const { id, token } = (await post(`${api}/worker/register`, { secret: farmSecret, ...about })) as {
      id: string;
      token: string;
    };
    await post(`${api}/worker/sign-on`, about, {
      authorization: `Basic ${Buffer.from(`${id}:${token}`).toString('base64')}`,
    });
  });
}

/** `count` one-task echo-sleep jobs named job-0000... (0000 submitted first). */
export async function addJobs(managerUrl: string, count: number, apiToken?: string): Promise<string[]> {
  const headers: Record<string, string> = apiToken ? { authorization: `Bearer ${apiToken}` } : {};
  const jobs = await inLanes(count, 8, async (index) => {
    const name = `job-${String(index).padStart(4, '0')}`;
    return (await post(
      `${managerUrl}/api/v1/jobs`,
      { name, type: 'echo-sleep', priority: index % 100, settings: { message: name } },
      headers,
    )) as { id: string };
  });
  return jobs.map((job) => job.id);
}
