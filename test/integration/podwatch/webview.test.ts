// The live web view in a real browser (Debian chromium via playwright-core), plus /healthz, /readyz and
// /metrics: a pod created by the test shows up in the timeline and the pod table without a reload, and an
// alert POSTed the way Alertmanager's webhook sends it shows in the Alerts panel until it is resolved.
import { CHROMIUM_ARGS } from '../../../src/prove/requirements/screenshot.js';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { repoRoot } from '../../../src/util/paths.js';
import type { KubeApi } from '../../../src/podwatch/kubeapi.js';
import { testCluster, TestNamespaces } from '../../helpers/cluster.js';
import {
  apiFor,
  createPod,
  patchPod,
  podManifest,
  startPodwatch,
  testConfig,
  type RunningPodwatch,
} from './harness.js';

describe('podwatch web view and HTTP endpoints', () => {
  let namespaces: TestNamespaces;
  let ns: string;
  let api: KubeApi;
  let pw: RunningPodwatch;
  let browser: BrowserContext | undefined;
  const profile = mkdtempSync(join(tmpdir(), 'podwatch-chromium-'));

  before(async () => {
    const cluster = await testCluster();
    namespaces = new TestNamespaces(cluster);
    ns = await namespaces.create('podwatch-web');
    api = apiFor(cluster.kc);
    await createPod(api, ns, podManifest('existing', { app: 'db' }));
    pw = await startPodwatch(cluster.kc, testConfig({ namespaces: [ns] }));
  });
  after(async () => {
    await browser?.close();
    await pw.stop();
    api.close();
    await namespaces.cleanup();
    rmSync(profile, { recursive: true, force: true });
  });

  it('serves /healthz, /readyz (after the initial sync) and Prometheus /metrics', async () => {
    const base = pw.handle.url ?? '';
    assert.equal((await fetch(`${base}healthz`)).status, 200);
    assert.equal((await fetch(`${base}readyz`)).status, 200);
    const metrics = await (await fetch(`${base}metrics`)).text();
    assert.match(metrics, /^podwatch_pods_tracked 1$/m);
    assert.match(metrics, /^podwatch_relists_total\{reason="initial"\} 1$/m);
    assert.match(metrics, /^# TYPE podwatch_event_latency_seconds histogram$/m);
  });

  it('shows a new event live in headless Chromium, and the filters hide what does not match', async () => {
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: [...CHROMIUM_ARGS],
      viewport: { width: 1280, height: 720 },
    });
    const page = await browser.newPage();
    await page.goto(pw.handle.url ?? '');
    await page.locator('#status.live').waitFor({ timeout: 30_000 });
    await page.locator('td.name', { hasText: `${ns}/existing` }).waitFor({ timeout: 30_000 });

    await createPod(api, ns, podManifest('live-1', { app: 'web' }));
    await page.locator('li.ev', { hasText: `${ns}/live-1` }).waitFor({ timeout: 30_000 });
    await patchPod(api, ns, 'live-1', { metadata: { labels: { tier: 'frontend' } } });
    const update = page.locator('li.ev[data-type="updated"]', { hasText: 'label.tier' });
    await update.waitFor({ timeout: 30_000 });
    assert.match(await update.innerText(), /frontend/);
    assert.equal(
      await page.locator('td.name', { hasText: `${ns}/live-1` }).count(),
      1,
      'the pod table has the new pod',
    );

    mkdirSync(join(repoRoot, 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: join(repoRoot, 'test-artifacts', 'podwatch-webview.png') });

    // Filters: a label filter that matches nothing hides the pods and events; unticking "updated" hides updates.
    await page.fill('#f-label', 'app=nothing');
    assert.equal(await page.locator('li.ev').count(), 0);
    assert.equal(await page.locator('td.name').count(), 0);
    await page.fill('#f-label', 'app=web');
    assert.equal(await page.locator('td.name').count(), 1);
    await page.uncheck('.f-type[value="updated"]');
    assert.equal(await page.locator('li.ev[data-type="updated"]').count(), 0);
    assert.ok((await page.locator('li.ev[data-type="created"]').count()) >= 1);
  });

  it('an Alertmanager webhook notification shows in the Alerts panel and the timeline, live', async () => {
    assert.ok(browser, 'the previous test opened the browser');
    const page = await browser.newPage();
    await page.goto(pw.handle.url ?? '');
    await page.locator('#status.live').waitFor({ timeout: 30_000 });
    const notify = (status: 'firing' | 'resolved'): Promise<Response> =>
      fetch(`${pw.handle.url ?? ''}api/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          version: '4',
          status,
          receiver: 'podwatch',
          groupKey: '{}:{alertname="WebstackGaleraClusterSizeLow"}',
          alerts: [
            {
              status,
              labels: { alertname: 'WebstackGaleraClusterSizeLow', severity: 'critical', namespace: ns, pod: 'db-0' },
              annotations: { summary: 'the Galera cluster has 2 of 3 members' },
              startsAt: new Date(Date.now() - 60_000).toISOString(),
              endsAt: status === 'resolved' ? new Date().toISOString() : '0001-01-01T00:00:00Z',
              generatorURL: 'http://prometheus.invalid/graph',
              fingerprint: 'webview-test-1',
            },
          ],
        }),
      });

    assert.equal((await notify('firing')).status, 200);
    const panel = page.locator('#alerts li.alert.sev-critical', { hasText: 'WebstackGaleraClusterSizeLow' });
    await panel.waitFor({ timeout: 30_000 });
    assert.match(await panel.innerText(), /the Galera cluster has 2 of 3 members/);
    assert.match(await panel.innerText(), /since \d\d:\d\d:\d\d \(\d+s\)/);
    await page.locator('li.ev[data-type="alert-firing"]').waitFor({ timeout: 30_000 });
    assert.equal((await notify('firing')).status, 200, 'a repeat');
    await page.screenshot({ path: join(repoRoot, 'test-artifacts', 'podwatch-webview-alerts.png') });

    assert.equal((await notify('resolved')).status, 200);
    await page.locator('li.ev[data-type="alert-resolved"]').waitFor({ timeout: 30_000 });
    await page.locator('#alerts li.empty').waitFor({ timeout: 30_000 });
    assert.equal(await page.locator('li.ev[data-type="alert-firing"]').count(), 1, 'the repeat added nothing');
    assert.deepEqual(
      pw.sink.alerts.map((e) => e.type),
      ['alert-firing', 'alert-resolved'],
    );
    assert.deepEqual(await (await fetch(`${pw.handle.url ?? ''}api/alerts`)).json(), []);
    assert.match(
      await (await fetch(`${pw.handle.url ?? ''}metrics`)).text(),
      /^podwatch_alert_notifications_total\{result="accepted",source="webhook"\} 3$/m,
    );
  });
});
