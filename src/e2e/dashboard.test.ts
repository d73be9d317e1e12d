import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { startProcessFarm, waitForJob, type ProcessFarm } from '../testing/e2e.js';
import { DESKTOP, PHONE, launchBrowser, needsChromium, openPage, screenshot } from '../testing/browser.js';
import { waitFor, SECOND } from '../util/time.js';

/**
 * The web dashboard in Debian's Chromium against a real `kiln manager` process with real
 * `kiln worker`s: live updates, actions, the log, the preview, worker control, a manager restart,
 * and a screenshot of every page (light and dark, desktop and phone) in test-output/screenshots.
 */
const skip = needsChromium;
let farm: ProcessFarm;
let browser: Browser;
const cleanups: Array<() => unknown> = [];
const scope = { after: (fn: () => unknown) => cleanups.push(fn) };

before(async () => {
  if (skip) return;
  farm = await startProcessFarm(scope, { workers: 2 });
  browser = await launchBrowser(scope);
});
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

const text = (page: Page, selector: string) =>
  page
    .locator(selector)
    .first()
    .textContent({ timeout: 30 * SECOND });

/** Waits until the element's text matches, with the page's own updates (never a reload). */
async function waitForText(page: Page, selector: string, pattern: RegExp, what: string): Promise<string> {
  return waitFor(
    async () => {
      const found = await page
        .locator(selector)
        .first()
        .textContent({ timeout: 1000 })
        .catch(() => null);
      return found && pattern.test(found) ? found : undefined;
    },
    { timeoutMs: 90 * SECOND, intervalMs: 100, what },
  );
}

async function jobStatus(id: string): Promise<string> {
  return (await farm.api('GET', `/jobs/${id}`)).body.status;
}

function renderJob(name: string) {
  const output = join(farm.home, 'renders', name);
  mkdirSync(output, { recursive: true });
  return {
    name,
    type: 'render',
    frames: '1-8',
    chunkSize: 2,
    settings: { renderer: 'builtin', output, width: 320, height: 180, video: true },
  };
}

async function controlWorkers(action: 'sleep' | 'wake'): Promise<void> {
  const { workers } = (await farm.api('GET', '/workers')).body;
  for (const worker of workers)
    assert.equal((await farm.api('POST', `/workers/${worker.id}/status`, { action, when: 'now' })).status, 200);
}

test('a job submitted through the API goes live from queued to completed, without a reload', { skip }, async () => {
  const { page, errors } = await openPage(browser);
  await page.goto(`${farm.manager.url}/jobs`);
  await page.locator('.conn.up').waitFor({ timeout: 30 * SECOND });
  await page.evaluate(() => Object.assign(globalThis, { sameDocument: true }));
  // Workers asleep: the job waits queued long enough to be seen so.
  await controlWorkers('sleep');
  const job = (await farm.api('POST', '/jobs', renderJob('live-render'))).body;
  const row = `tr:has(a[data-job="${job.id}"]) .job-status`;
  await waitForText(page, row, /queued/, 'the new job to show as queued');
  await controlWorkers('wake');
  await waitForText(page, row, /completed/, 'the job to show as completed');
  assert.equal(await page.evaluate(() => (globalThis as { sameDocument?: boolean }).sameDocument), true);
  assert.match((await text(page, `tr:has(a[data-job="${job.id}"])`)) ?? '', /5\/5/);
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('pause, resume, cancel and requeue from the page change the job', { skip }, async () => {
  const job = (
    await farm.api('POST', '/jobs', {
      name: 'long-sleeper',
      type: 'echo-sleep',
      settings: { message: 'zzz', sleepSeconds: 2, tasks: 40 },
    })
  ).body;
  const { page } = await openPage(browser);
  // The jobs table: select the job and pause it, then resume it.
  await page.goto(`${farm.manager.url}/jobs?q=long-sleeper`);
  const checkbox = page.getByRole('checkbox', { name: 'Select long-sleeper' });
  await checkbox.check();
  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  await waitFor(async () => ['paused', 'pause-requested'].includes(await jobStatus(job.id)), {
    timeoutMs: 30 * SECOND,
    what: 'the job to pause',
  });
  await waitForText(page, `tr:has(a[data-job="${job.id}"]) .job-status`, /pause/, 'the page to show the pause');
  await page.getByRole('button', { name: 'Resume', exact: true }).click();
  await waitFor(async () => ['active', 'queued'].includes(await jobStatus(job.id)), {
    timeoutMs: 30 * SECOND,
    what: 'the job to resume',
  });
  // The job's own page: cancel, then requeue.
  await page.getByRole('link', { name: 'long-sleeper' }).click();
  await page.locator('#job-title').waitFor();
  await page.getByRole('button', { name: 'Cancel', exact: true }).click();
  await waitFor(async () => (await jobStatus(job.id)) === 'canceled', {
    timeoutMs: 30 * SECOND,
    what: 'the job to be canceled',
  });
  await waitForText(page, '[data-testid="job-status"]', /canceled/, 'the page to show canceled');
  await page.getByRole('button', { name: 'Requeue', exact: true }).click();
  await waitFor(async () => ['queued', 'active'].includes(await jobStatus(job.id)), {
    timeoutMs: 30 * SECOND,
    what: 'the job to be requeued',
  });
  await waitForText(page, '[data-testid="job-status"]', /queued|active/, 'the page to show the requeue');
  assert.equal((await farm.api('POST', `/jobs/${job.id}/status`, { action: 'cancel' })).status, 200);
  await page.context().close();
});

test("a task's log follows live, and the job's last frame appears", { skip }, async () => {
  // A task that prints a numbered line every 200 ms for about 4 s.
  const script =
    'let n = 0; const t = setInterval(() => { console.log("tick " + ++n); if (n === 20) clearInterval(t); }, 200);';
  const job = (
    await farm.api('POST', '/jobs', {
      name: 'ticker',
      type: 'command',
      settings: { argv: [process.execPath, '-e', script] },
    })
  ).body;
  const task = await waitFor(
    async () => {
      const [first] = (await farm.api('GET', `/jobs/${job.id}/tasks`)).body.tasks;
      return first?.status === 'active' ? first : undefined;
    },
    { timeoutMs: 30 * SECOND, what: 'the ticker task to start' },
  );
  const { page } = await openPage(browser);
  await page.goto(`${farm.manager.url}/tasks/${task.id}`);
  const log = page.locator('pre.lines');
  await log.waitFor();
  const before = (await log.textContent()) ?? '';
  assert.doesNotMatch(before, /tick 20/, 'the task has not finished yet when the page opens');
  await waitForText(page, 'pre.lines', /tick 20/, 'the last line to arrive in the open page');
  await waitForJob(farm, job.id);

  // The render job of the first test left a preview and a video.
  const render = (await farm.api('GET', '/jobs')).body.jobs.find((j: any) => j.name === 'live-render');
  await page.goto(`${farm.manager.url}/jobs/${render.id}`);
  const frame = page.getByRole('img', { name: "The job's last rendered frame" });
  await frame.waitFor({ timeout: 30 * SECOND });
  await waitFor(() => frame.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth > 0), {
    timeoutMs: 30 * SECOND,
    what: 'the preview to load',
  });
  await page.getByRole('button', { name: 'Enlarge the last frame' }).click();
  await page.getByRole('img', { name: "The job's last rendered frame, large" }).waitFor();
  await page.keyboard.press('Escape');
  const video = page.locator('video');
  await video.waitFor({ timeout: 30 * SECOND });
  await waitFor(() => video.evaluate((v) => (v as unknown as { readyState: number }).readyState >= 1), {
    timeoutMs: 30 * SECOND,
    what: "the job's video to load",
  });
  await page.context().close();
});

test('the worker list shows asleep after clicking sleep; tags and schedules are edited there', { skip }, async () => {
  const { page } = await openPage(browser);
  await page.goto(`${farm.manager.url}/workers`);
  await page.getByRole('checkbox', { name: 'Select w1' }).check();
  await page.getByLabel('When').selectOption('now');
  await page.getByRole('button', { name: 'Sleep', exact: true }).click();
  await waitForText(page, 'tr:has([data-worker="w1"]) .worker-status', /^asleep/, 'w1 to show asleep');
  const { workers } = (await farm.api('GET', '/workers')).body;
  assert.equal(workers.find((w: any) => w.name === 'w1').status, 'asleep');
  await page.getByRole('button', { name: 'Wake', exact: true }).click();
  await waitForText(page, 'tr:has([data-worker="w1"]) .worker-status', /^awake/, 'w1 to show awake again');

  // Tags and a sleep schedule, edited in the worker's dialog (a window that is not now: it stays awake).
  const hour = (offset: number) => `${String((new Date().getHours() + offset) % 24).padStart(2, '0')}:00`;
  await page.getByRole('button', { name: 'Edit tags and sleep schedule of w2' }).click();
  const editor = page.getByRole('dialog', { name: 'w2' });
  await editor.getByLabel('Tags').fill('gpu, fast');
  await editor.getByLabel('Sleep on a schedule').check();
  await editor.getByLabel('From').fill(hour(2));
  await editor.getByLabel('until').fill(hour(3));
  await editor.getByRole('button', { name: 'Save' }).click();
  await editor.waitFor({ state: 'hidden' });
  await waitForText(page, 'tr:has([data-worker="w2"])', /gpu.*fast.*sleeps/, 'w2 to show its tags and schedule');
  const w2 = (await farm.api('GET', '/workers')).body.workers.find((w: any) => w.name === 'w2');
  assert.deepEqual(w2.tags, ['gpu', 'fast']);
  assert.deepEqual(w2.sleepSchedule, { enabled: true, days: [], start: hour(2), end: hour(3) });
  assert.equal(w2.status, 'awake');
  await page.context().close();
});

test('the network page lists the services the manager knows (here from its services.cfg)', { skip }, async () => {
  writeFileSync(
    join(farm.home, 'services.cfg'),
    [
      '[database farm-db:7533]',
      'kind = database',
      'host = farm-db',
      'addresses = 192.168.0.20',
      'ports = postgres:7533',
      'version = 0.1.0',
      '',
      '[manager farm-mgr:7780]',
      'kind = manager',
      'host = farm-mgr',
      'addresses = 192.168.0.14, fd00::14',
      'ports = http:7780',
      'version = 0.1.0',
      '',
    ].join('\n'),
  );
  const { page } = await openPage(browser);
  await page.goto(`${farm.manager.url}/network`);
  await waitForText(page, 'table', /farm-db.*192\.168\.0\.20.*postgres 7533.*services\.cfg/s, 'the database entry');
  assert.match((await text(page, 'table')) ?? '', /farm-mgr/);
  await page.context().close();
});

test('screenshots of every page, light and dark, desktop and phone', { skip }, async () => {
  const { jobs } = (await farm.api('GET', '/jobs')).body;
  const render = jobs.find((j: any) => j.name === 'live-render');
  const [task] = (await farm.api('GET', `/jobs/${render.id}/tasks`)).body.tasks;
  const pages = {
    jobs: '/jobs',
    job: `/jobs/${render.id}`,
    task: `/tasks/${task.id}`,
    workers: '/workers',
    farm: '/farm',
    network: '/network',
  };
  for (const dark of [false, true]) {
    for (const [size, viewport] of Object.entries({ desktop: DESKTOP, phone: PHONE })) {
      const { page, errors } = await openPage(browser, { viewport, dark });
      for (const [name, path] of Object.entries(pages)) {
        await page.goto(`${farm.manager.url}${path}`);
        await page
          .locator('main h1')
          .first()
          .waitFor({ timeout: 30 * SECOND });
        await page.locator('.conn.up').waitFor({ timeout: 30 * SECOND });
        // The page's first reads (lists, plots, the preview) settle; the screenshot is for a person.
        await page.waitForTimeout(700);
        await screenshot(page, `${name}-${size}-${dark ? 'dark' : 'light'}`);
      }
      assert.deepEqual(errors, []);
      await page.context().close();
    }
  }
});

test('the page says the manager is away and recovers once it is back', { skip }, async () => {
  const { page } = await openPage(browser);
  await page.goto(`${farm.manager.url}/jobs`);
  await page.locator('.conn.up').waitFor({ timeout: 30 * SECOND });
  await page.evaluate(() => Object.assign(globalThis, { sameDocument: true }));
  await farm.manager.stop();
  await page
    .getByRole('alert')
    .filter({ hasText: 'not answering' })
    .waitFor({ timeout: 30 * SECOND });
  await screenshot(page, 'jobs-desktop-light-manager-away');
  await farm.restartManager();
  await page.locator('.conn.up').waitFor({ timeout: 60 * SECOND });
  await page.getByRole('alert').filter({ hasText: 'not answering' }).waitFor({ state: 'detached' });
  // Live again: a job submitted now appears without a reload.
  const job = (
    await farm.api('POST', '/jobs', { name: 'after-restart', type: 'echo-sleep', settings: { message: 'back' } })
  ).body;
  await waitForText(page, `tr:has(a[data-job="${job.id}"]) .job-status`, /queued|active|completed/, 'the new job');
  assert.equal(await page.evaluate(() => (globalThis as { sameDocument?: boolean }).sameDocument), true);
  await page.context().close();
});
