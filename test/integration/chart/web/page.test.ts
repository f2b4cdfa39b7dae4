// The web tier runs for real on this machine: the chart's rendered ConfigMap is written out, the init
// container's script renders the page, the webinfo companion starts from its real entry point, Debian's
// nginx serves the rendered nginx.conf on loopback, and headless Chromium reads the page. The release has
// region.name set, so the page and /api/info name the region. The screenshot is kept in test-artifacts/web/.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, openSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { helmTemplate } from '../../../../src/chart/helm.js';
import { configMapData, one, parseManifests } from '../../../../src/chart/manifests.js';
import {
  checkNginxConfig,
  initContainerEnv,
  renderPage,
  startLocalNginx,
  waitForHttp,
  webinfoEnv,
  webLayout,
  writeWebFiles,
  type LocalNginx,
  type PodFacts,
} from '../../../helpers/web-local.js';
import { pickFreePorts } from '../../../../src/util/net.js';
import { repoRoot } from '../../../../src/util/paths.js';

const NGINX = '/usr/sbin/nginx';
const CHROMIUM = '/usr/bin/chromium';
const artifacts = join(repoRoot, 'test-artifacts', 'web');
const pod: PodFacts = {
  podName: 'ws-webstack-web-7c9d5b6f4-k8x2p',
  podIP: '10.244.1.17',
  nodeName: 'node-b',
  namespace: 'shop',
};
const REGION = 'east';

interface InfoDoc {
  pod: { name: string; ip: string; node: string; namespace: string };
  region: string | null;
  servingHost: string | null;
  time: string;
  data: { source: string; configured: boolean; ok: boolean; message: string };
}

/**
 * The companion from its real entry point, as the pod starts it (output appended to `logFile`), with the
 * webinfo container's literal environment from the rendered Deployment (WEBINFO_REGION when region.name is set).
 */
function startWebinfo(port: number, pageDir: string, logFile: string, rendered: Record<string, string>): ChildProcess {
  const out = openSync(logFile, 'a');
  const child = spawn(process.execPath, ['dist/src/webinfo/main.js'], {
    cwd: repoRoot,
    stdio: ['ignore', out, out],
    env: {
      PATH: process.env.PATH,
      ...rendered,
      WEBINFO_HOST: '127.0.0.1',
      WEBINFO_PORT: String(port),
      WEBINFO_PAGE_DIR: pageDir,
      POD_NAME: pod.podName,
      POD_IP: pod.podIP,
      NODE_NAME: pod.nodeName,
      POD_NAMESPACE: pod.namespace,
    },
  });
  closeSync(out);
  return child;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) =>
    child.once('exit', () => {
      r();
    }),
  );
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

describe('web tier on loopback: rendered nginx config, init script, webinfo, headless Chromium', () => {
  let root: string;
  let nginx: LocalNginx | undefined;
  let webinfo: ChildProcess | undefined;
  let browser: BrowserContext | undefined;
  let base: string;
  let servingHost: string;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'kstack-web-'));
    chmodSync(root, 0o755); // nginx's workers (an unprivileged user when started by root) read the page
    const [nginxPort, webinfoPort] = await pickFreePorts(2);
    assert.ok(nginxPort && webinfoPort);
    const objs = parseManifests(
      await helmTemplate({
        release: 'ws',
        namespace: 'shop',
        values: {
          web: { containerPort: nginxPort },
          webinfo: { port: webinfoPort },
          region: { name: REGION },
          db: { enabled: false },
        },
      }),
    );
    const layout = webLayout(root);
    writeWebFiles(layout, configMapData(one(objs, 'ConfigMap', 'web')));
    const init = await renderPage(layout, pod, initContainerEnv(one(objs, 'Deployment', 'web')));
    assert.match(init, /serving-host=Host-k8x2p/);
    servingHost = readFileSync(join(layout.pageDir, 'serving-host'), 'utf8').trim();
    await checkNginxConfig(NGINX, layout);
    const deployment = one(objs, 'Deployment', 'web');
    webinfo = startWebinfo(webinfoPort, layout.pageDir, join(root, 'webinfo.log'), webinfoEnv(deployment));
    await waitForHttp(`http://127.0.0.1:${webinfoPort}/api/healthz`, 20_000, () => webinfo?.exitCode === null);
    base = `http://127.0.0.1:${nginxPort}`;
    nginx = await startLocalNginx(NGINX, layout, join(root, 'nginx.log'), `${base}/healthz`);
  });

  after(async () => {
    await browser?.close();
    await nginx?.stop();
    if (webinfo) await stopChild(webinfo);
    rmSync(root, { recursive: true, force: true });
  });

  it('the init script sets serving-host to Host- and the last 5 characters of the pod name', () => {
    assert.equal(servingHost, 'Host-k8x2p');
  });

  it('nginx serves the page with the pod facts, security headers and no caching', async () => {
    const res = await fetch(`${base}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    assert.equal(res.headers.get('server'), 'nginx', 'no version in the Server header');
    const html = await res.text();
    for (const text of [pod.podIP, pod.podName, pod.nodeName, 'Host-k8x2p', `data-field="region">${REGION}<`])
      assert.ok(html.includes(text), `the page shows ${text}`);
    const json = (await (await fetch(`${base}/pod.json`)).json()) as Record<string, string>;
    assert.equal(json.servingHost, 'Host-k8x2p');
    assert.equal(json.podIP, pod.podIP);
    assert.equal(await (await fetch(`${base}/healthz`)).text(), 'ok\n');
    assert.equal((await fetch(`${base}/missing`)).status, 404);
  });

  it('/api/info goes through nginx to webinfo, which says plainly that no database is configured', async () => {
    const res = await fetch(`${base}/api/info`);
    assert.equal(res.status, 200);
    const info = (await res.json()) as InfoDoc;
    assert.deepEqual(info.pod, { name: pod.podName, ip: pod.podIP, node: pod.nodeName, namespace: pod.namespace });
    assert.equal(info.servingHost, 'Host-k8x2p', 'webinfo reads what the init container wrote');
    assert.equal(info.region, REGION, 'the Deployment passes region.name to webinfo');
    assert.deepEqual(
      { source: info.data.source, configured: info.data.configured, ok: info.data.ok },
      { source: 'none', configured: false, ok: false },
    );
    assert.match(info.data.message, /No database is configured/);
    assert.equal((await fetch(`${base}/api/nope`)).status, 404);
  });

  it('headless Chromium shows the IP, pod name, Host-xxxxx and the live-data section; screenshot kept', async () => {
    const userDataDir = mkdtempSync(join(tmpdir(), 'kstack-chromium-'));
    try {
      // A fresh profile each run (playwright passes it as --user-data-dir).
      browser = await chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM,
        headless: true,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
        viewport: { width: 1000, height: 760 },
        timeout: 60_000,
      });
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(m.text());
      });
      page.on('pageerror', (e) => problems.push(e.message));
      await page.goto(`${base}/`, { waitUntil: 'load', timeout: 30_000 });
      const field = (name: string): Promise<string> => page.locator(`[data-field="${name}"]`).first().innerText();
      assert.equal(await field('pod-ip'), pod.podIP);
      assert.equal(await field('pod-name'), pod.podName);
      assert.equal(await field('serving-host'), 'Host-k8x2p');
      assert.match(await field('serving-host-value'), /^Host-[a-z0-9]{5}$/);
      assert.equal(await field('node-name'), pod.nodeName);
      assert.equal(await field('region'), REGION);
      const regionLine = page.locator('[data-field="region-line"]');
      assert.ok(await regionLine.isVisible(), 'the region line is shown');
      assert.match(await regionLine.innerText(), new RegExp(`^served from region ${REGION}$`));
      const status = page.locator('[data-field="live-status"][data-state="unconfigured"]');
      await status.waitFor({ timeout: 20_000 });
      assert.match(await status.innerText(), /No database is configured/);
      assert.match(
        await page.locator('#live-facts').innerText(),
        new RegExp(`region\\s+${REGION}`),
        'the live data lists the region /api/info reported',
      );
      assert.equal(
        await page.title(),
        'kstack webstack · Host-k8x2p',
        'the title comes from web.page.title via the init container',
      );
      assert.equal(
        await page.locator('link[rel=stylesheet]').evaluate((l) => (l as unknown as { sheet: unknown }).sheet !== null),
        true,
        'the stylesheet loaded (CSP allows it)',
      );
      mkdirSync(artifacts, { recursive: true });
      const shot = join(artifacts, 'page.png');
      await page.screenshot({ path: shot, fullPage: true });
      assert.ok(statSync(shot).size > 10_000, 'the screenshot has content');
      assert.deepEqual(problems, [], 'no console errors (CSP violations show up here)');
    } finally {
      await browser?.close();
      browser = undefined;
      rmSync(userDataDir, { recursive: true, force: true });
    }
  });

  it('when webinfo is down, /api/info answers JSON 503 and the page still serves', async () => {
    assert.ok(webinfo);
    await stopChild(webinfo);
    const res = await fetch(`${base}/api/info`);
    assert.equal(res.status, 503);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    assert.match(((await res.json()) as { error: string }).error, /not answering/);
    assert.equal((await fetch(`${base}/`)).status, 200);
  });
});
