// One screenshot of the page from headless Chromium (Debian's chromium, driven by playwright-core),
// through a port-forward to the web Service; returns what the page showed.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { portForward } from '../../stack/port-forward.js';
import type { Kube } from '../../kube/kube.js';

/** Headless Chromium in a container-less root shell: no sandbox, GPU, QUIC or background traffic. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
] as const;

export const CHROMIUM = '/usr/bin/chromium';

export interface PageShot {
  podIp: string;
  servingHost: string;
  podName: string;
  liveStatus: string;
}

export async function screenshotPage(
  kube: Kube,
  service: string,
  port: number,
  file: string,
): Promise<PageShot | string> {
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (Debian package chromium; 'kstack setup' installs it)`;
  const { chromium } = await import('playwright-core');
  const fwd = await portForward(kube.opts.kubectl, kube.opts.kubeArgs, kube.namespace, service, port);
  const userDataDir = mkdtempSync(join(tmpdir(), 'kstack-prove-chromium-'));
  try {
    const browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1000, height: 760 },
      timeout: 60_000,
      args: [...CHROMIUM_ARGS],
    });
    try {
      const page = await browser.newPage();
      await page.goto(fwd.url, { waitUntil: 'load', timeout: 30_000 });
      const field = (name: string): Promise<string> =>
        page.locator(`[data-field="${name}"]`).first().innerText({ timeout: 10_000 });
      // Wait for the live-data section to settle (it loads /api/info after the page).
      await page
        .locator('[data-field="live-status"][data-state]:not([data-state="loading"])')
        .first()
        .waitFor({ timeout: 20_000 })
        .catch(() => undefined);
      const shot: PageShot = {
        podIp: await field('pod-ip'),
        servingHost: await field('serving-host'),
        podName: await field('pod-name'),
        liveStatus: await field('live-status').catch(() => ''),
      };
      await page.screenshot({ path: file, fullPage: true });
      return shot;
    } finally {
      await browser.close();
    }
  } finally {
    fwd.stop();
    rmSync(userDataDir, { recursive: true, force: true });
  }
}
