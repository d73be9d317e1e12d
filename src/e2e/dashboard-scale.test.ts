import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startTestManager, type TestManager } from '../testing/farm.js';
import { startTestCluster } from '../testing/cluster.js';
import { addJobs, addWorkers } from '../testing/fleet.js';
import { launchBrowser, needsChromium, openPage, screenshot } from '../testing/browser.js';
import { createApiToken } from '../manager/auth/secrets.js';
import { waitFor, SECOND } from '../util/time.js';

/**
 * 1,000 jobs and 500 workers in Chromium: the tables stay virtual (a few dozen rows in the page)
 * and scroll to the end. The manager is not --open, so the page asks for a token first, keeps it
 * out of every URL, and sends it with the actions.
 */
const skip = needsChromium;
let m: TestManager;
let token = '';
let browser: Browser;
const cleanups: Array<() => unknown> = [];
const scope = { after: (fn: () => unknown) => cleanups.push(fn) };
before(async () => {
  if (skip) return;
  m = await startTestManager(scope, await startTestCluster(scope), { open: false });
  token = await createApiToken(m.services.db, 'dashboard test');
  await addWorkers(m.url, m.farmSecret, 500);
  await addJobs(m.url, 1000, token);
  browser = await launchBrowser(scope);
});
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

/** Rows of the table in the DOM (not the two spacers). */
const domRows = (page: Page) => page.locator('tbody tr:not(.spacer)').count();

/** Scrolls the table to its end and waits for `lastName` to be in the page. */
async function scrollToEnd(page: Page, lastName: string): Promise<void> {
  await waitFor(
    async () => {
      await page.locator('.virtual-scroller').evaluate((element) => {
        element.scrollTop = element.scrollHeight;
      });
      return (await page.getByText(lastName, { exact: true }).count()) > 0;
    },
    { timeoutMs: 30 * SECOND, intervalMs: 200, what: `${lastName} to be scrolled into the page` },
  );
}

test('1,000 jobs: a token prompt first, then a virtual table that scrolls to the end', { skip }, async () => {
  const { page, errors } = await openPage(browser);
  const urls: string[] = [];
  page.on('request', (request) => urls.push(request.url()));
  await page.goto(`${m.url}/jobs`);
  const prompt = page.getByRole('dialog', { name: 'API token' });
  await prompt.waitFor({ timeout: 30 * SECOND });
  await screenshot(page, 'token-prompt-desktop-light');
  await page.getByRole('textbox', { name: 'Token' }).fill(token);
  await page.getByRole('button', { name: 'Use token' }).click();
  await prompt.waitFor({ state: 'hidden' });

  await page.getByRole('heading', { name: /Jobs 1000/ }).waitFor({ timeout: 60 * SECOND });
  assert.equal(await page.getByRole('table', { name: 'Jobs' }).getAttribute('aria-rowcount'), '1001');
  const rows = await domRows(page);
  assert.ok(rows > 5 && rows < 80, `only the rows in view are in the page (${rows})`);
  // Newest first: job-0000 is last.
  await scrollToEnd(page, 'job-0000');
  assert.ok((await domRows(page)) < 80);
  await screenshot(page, 'jobs-1000-scrolled-desktop-light');

  // An action with the token: pause the first job shown after a search.
  await page.getByLabel('Search jobs').fill('job-0007');
  await page.getByRole('checkbox', { name: 'Select job-0007' }).check();
  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  await page.getByText('pause: 1 job.').waitFor({ timeout: 30 * SECOND });
  const { jobs } = (await m.api('GET', '/jobs?limit=1000')).body;
  assert.equal(jobs.find((job: any) => job.name === 'job-0007').status, 'paused');
  assert.deepEqual(
    urls.filter((url) => url.includes(token)),
    [],
    'the token never appears in a URL',
  );
  assert.match(page.url(), /\/jobs\?q=job-0007$/, 'the search is in the address');
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('500 workers: a virtual table that scrolls to the end', { skip }, async () => {
  const { page, errors } = await openPage(browser);
  await page.goto(`${m.url}/workers`);
  await page.getByRole('heading', { name: /Workers 500/ }).waitFor({ timeout: 60 * SECOND });
  const rows = await domRows(page);
  assert.ok(rows > 5 && rows < 80, `only the rows in view are in the page (${rows})`);
  await scrollToEnd(page, 'worker-499');
  assert.ok((await domRows(page)) < 80);
  await screenshot(page, 'workers-500-scrolled-desktop-light');
  assert.deepEqual(errors, []);
  await page.context().close();
});
