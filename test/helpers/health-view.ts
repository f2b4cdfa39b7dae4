// The health page in headless Chromium (Debian's chromium via playwright-core) while a drill runs: it
// samples one figure every second, as a user watching the page would see it, and takes screenshots.
import { CHROMIUM_ARGS } from '../../src/prove/requirements/screenshot.js';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export interface HealthWatch {
  page: Page;
  /** Every sample of the figure: [ms since the epoch, its text]. */
  samples: [number, string][];
  screenshot(file: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Opens the page and samples `[data-figure=<figure>]` within the namespace's section every second; the
 * first time the figure differs from its first sample, a screenshot goes to `changeShot`.
 */
export async function watchHealthFigure(
  url: string,
  namespace: string,
  figure: string,
  changeShot: string,
): Promise<HealthWatch> {
  const profile = mkdtempSync(join(tmpdir(), 'kstack-health-chromium-'));
  const browser: BrowserContext = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [...CHROMIUM_ARGS],
    viewport: { width: 1280, height: 900 },
  });
  const page = await browser.newPage();
  await page.goto(url);
  const samples: [number, string][] = [];
  const locator = page.locator(`[data-namespace="${namespace}"] [data-figure="${figure}"]`).first();
  let stopped = false;
  let shotTaken = false;
  const loop = (async () => {
    while (!stopped) {
      const text = await locator.textContent({ timeout: 1000 }).catch(() => null);
      if (text !== null) {
        samples.push([Date.now(), text.trim()]);
        if (!shotTaken && samples[0] && samples[0][1] !== text.trim()) {
          shotTaken = true;
          mkdirSync(dirname(changeShot), { recursive: true });
          await page.screenshot({ path: changeShot, fullPage: true }).catch(() => undefined);
        }
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();
  return {
    page,
    samples,
    async screenshot(file) {
      mkdirSync(dirname(file), { recursive: true });
      await page.screenshot({ path: file, fullPage: true });
    },
    async stop() {
      stopped = true;
      await loop;
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
