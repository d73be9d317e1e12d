import { gzipSync } from 'node:zlib';
import { chromium, type Browser, type Page } from 'playwright-core';
import { withBenchCluster } from './cluster.js';
import { startManagerProcess } from './kiln.js';
import { median, ms, percentile } from './stats.js';
import { loadAverage } from './dispatch.js';
import { addJobs, addWorkers } from '../src/testing/fleet.js';

const RUNS = 5;
const JOBS = 1000;
const WORKERS = 500;

/**
 * `npm run bench -- dashboard`: the web dashboard, served by a manager process holding 1,000
 * jobs and 500 signed-on workers, in Debian's Chromium (headless).
 *  1. First load's JavaScript, gzipped as the manager sends it: the page's <script> and its
 *     modulepreload links. The peer is the manager's own Swagger UI page (/api/v1/docs), its
 *     scripts gzipped the same way.
 *  2. Time to interactive on loopback: a fresh browser context (cold cache) opens /jobs; the
 *     time from navigation start until the table holds the 1,000 jobs (data read, rows drawn,
 *     handlers attached). Same for /workers with 500. Median and worst of 5.
 *  3. Scrolling: the jobs and workers tables scrolled by one row every frame for 3 s; frame
 *     intervals from requestAnimationFrame (p50, p99, frames over 33 ms).
 */
export async function benchDashboard(): Promise<void> {
  const load0 = loadAverage();
  await withBenchCluster(async (cluster) => {
    const manager = await startManagerProcess(cluster);
    try {
      await addWorkers(manager.url, manager.farmSecret, WORKERS);
      await addJobs(manager.url, JOBS);
      const bytes = await firstLoadBytes(manager.url, '/jobs');
      const peer = await firstLoadBytes(manager.url, '/api/v1/docs/', true);
      const browser = await chromium.launch({
        executablePath: '/usr/bin/chromium',
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
      });
      try {
        const jobs = await timeToInteractive(browser, `${manager.url}/jobs`, `Jobs ${JOBS}`);
        const workers = await timeToInteractive(browser, `${manager.url}/workers`, `Workers ${WORKERS}`);
        const jobsScroll = await scrollFrames(browser, `${manager.url}/jobs`, `Jobs ${JOBS}`);
        const workersScroll = await scrollFrames(browser, `${manager.url}/workers`, `Workers ${WORKERS}`);
        console.log(`dashboard (load average ${load0} at start, ${loadAverage()} at end)`);
        console.log(
          `  first-load JS, gzipped: ${(bytes.gzipped / 1024).toFixed(1)} KB in ${bytes.files} file(s) ` +
            `(${(bytes.raw / 1024).toFixed(1)} KB raw); target <= 300 KB`,
        );
        console.log(
          `  peer, Swagger UI at /api/v1/docs: ${(peer.gzipped / 1024).toFixed(1)} KB gzipped ` +
            `(dashboard = ${(bytes.gzipped / peer.gzipped).toFixed(2)}x)`,
        );
        for (const [name, times] of [
          [`/jobs with ${JOBS} jobs`, jobs],
          [`/workers with ${WORKERS} workers`, workers],
        ] as const)
          console.log(
            `  interactive, ${name}: median ${ms(median(times))}, worst ${ms(Math.max(...times))} ` +
              `(${RUNS} cold loads); target <= 1000 ms`,
          );
        for (const [name, frames] of [
          ['jobs', jobsScroll],
          ['workers', workersScroll],
        ] as const)
          console.log(
            `  scrolling ${name}: ${frames.length} frames, interval p50 ${ms(percentile(frames, 50))}, ` +
              `p99 ${ms(percentile(frames, 99))}, over 33 ms: ${frames.filter((f) => f > 33.4).length}`,
          );
      } finally {
        await browser.close();
      }
    } finally {
      await manager.close();
    }
  });
}

/** The JS a first load fetches (script tags and modulepreload links), gzipped as served or by us. */
async function firstLoadBytes(
  base: string,
  path: string,
  gzipOurselves = false,
): Promise<{ raw: number; gzipped: number; files: number }> {
  const html = await (await fetch(`${base}${path}`)).text();
  const sources = [
    ...html.matchAll(/<script[^>]+src="([^"]+)"/g),
    ...html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+)"/g),
  ].map((match) => new URL(match[1] as string, `${base}${path}`).toString());
  let raw = 0;
  let gzipped = 0;
  for (const source of new Set(sources)) {
    const plain = Buffer.from(
      await (await fetch(source, { headers: { 'accept-encoding': 'identity' } })).arrayBuffer(),
    );
    raw += plain.length;
    if (gzipOurselves) gzipped += gzipSync(plain, { level: 9 }).length;
    else {
      // Node's fetch unpacks gzip; ask for the bytes on the wire with a raw HEAD-less GET length.
      const response = await fetch(source, { headers: { 'accept-encoding': 'gzip' } });
      const wire = Number(response.headers.get('content-length') ?? 0);
      await response.arrayBuffer();
      gzipped += response.headers.get('content-encoding') === 'gzip' && wire ? wire : gzipSync(plain).length;
    }
  }
  return { raw, gzipped, files: new Set(sources).size };
}

async function openFresh(browser: Browser, url: string, heading: string): Promise<{ page: Page; ms: number }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  await page.goto(url, { waitUntil: 'commit' });
  // Runs in the page (a string: the benchmark is compiled without the browser's types).
  await page.waitForFunction(
    `document.querySelector('main h1')?.textContent?.replace(/\\s+/g, ' ').includes(${JSON.stringify(heading)}) &&
     document.querySelectorAll('tbody tr:not(.spacer)').length > 5`,
    undefined,
    { timeout: 30_000, polling: 'raf' },
  );
  const elapsed = await page.evaluate(() => performance.now());
  return { page, ms: elapsed };
}

async function timeToInteractive(browser: Browser, url: string, heading: string): Promise<number[]> {
  const times: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const { page, ms: elapsed } = await openFresh(browser, url, heading);
    times.push(elapsed);
    await page.context().close();
  }
  return times;
}

/** Frame intervals (ms) while the table scrolls one row per frame for 3 s. */
async function scrollFrames(browser: Browser, url: string, heading: string): Promise<number[]> {
  const { page } = await openFresh(browser, url, heading);
  const frames = (await page.evaluate(`new Promise((resolve) => {
    const scroller = document.querySelector('.virtual-scroller');
    const intervals = [];
    let last = performance.now();
    const end = last + 3000;
    const step = (now) => {
      intervals.push(now - last);
      last = now;
      scroller.scrollTop = (scroller.scrollTop + 40) % (scroller.scrollHeight - scroller.clientHeight);
      if (now < end) requestAnimationFrame(step);
      else resolve(intervals.slice(1));
    };
    requestAnimationFrame(step);
  })`)) as number[];
  await page.context().close();
  return frames;
}
