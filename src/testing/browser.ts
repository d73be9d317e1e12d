import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

type After = { after: (fn: () => unknown) => void };

/** Debian's Chromium, which scripts/test-prerequisites.sh installs (as root). */
const CHROMIUM = '/usr/bin/chromium';

/** False when the browser tests can run, else why they skip. */
export const needsChromium: string | false = existsSync(CHROMIUM)
  ? false
  : `Debian's chromium is not installed at ${CHROMIUM}: apt-get install -y chromium as root (scripts/test-prerequisites.sh does it)`;

/** Where the test run leaves its screenshots for a person to look at (gitignored). */
const SCREENSHOT_DIR = fileURLToPath(new URL('../../../test-output/screenshots/', import.meta.url));

export const DESKTOP = { width: 1280, height: 720 };
export const PHONE = { width: 390, height: 844 };

/** A headless Chromium, closed when the test ends; each context gets a fresh profile. */
export async function launchBrowser(t: After): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  t.after(() => browser.close());
  return browser;
}

/** A page at `viewport`, with failed requests and page errors collected for the test's messages. */
export async function openPage(
  browser: Browser,
  options: { viewport?: { width: number; height: number }; dark?: boolean } = {},
): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({
    viewport: options.viewport ?? DESKTOP,
    colorScheme: options.dark ? 'dark' : 'light',
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  return { page, errors };
}

/** Saves a screenshot of the whole page (not only the viewport) as test-output/screenshots/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
