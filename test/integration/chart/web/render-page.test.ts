// The init container's script (charts/webstack/files/web/render-page.sh) run with dash, the POSIX sh of
// Debian images: serving-host formats, suffix lengths, escaping, and clear failures on missing input.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { webstackChartDir } from '../../../../src/chart/helm.js';
import { run } from '../../../../src/util/exec.js';

const script = join(webstackChartDir, 'files', 'web', 'render-page.sh');
const source = join(webstackChartDir, 'files', 'web');

describe('render-page.sh (the init container script)', () => {
  let root: string;
  let n = 0;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'kstack-render-'));
  });
  after(() => {
    rmSync(root, { recursive: true, force: true });
  });

  async function renderWith(
    env: Record<string, string>,
    shell = '/bin/sh',
  ): Promise<{ code: number; stderr: string; out: string }> {
    const out = join(root, `out-${n++}`);
    mkdirSync(out);
    chmodSync(out, 0o755);
    const res = await run(shell, [script], {
      env: { PATH: process.env.PATH, PAGE_SOURCE_DIR: source, PAGE_OUTPUT_DIR: out, ...env },
      allowFailure: true,
    });
    return { code: res.code, stderr: res.stderr, out };
  }
  const read = (dir: string, file: string): string => readFileSync(join(dir, file), 'utf8');
  const pod = {
    POD_NAME: 'shop-webstack-web-5d8f7c9b6-qz7tm',
    POD_IP: '10.244.2.9',
    NODE_NAME: 'node-c',
    POD_NAMESPACE: 'shop',
  };

  it('by default writes Host- plus the last 5 characters of the pod name, in every output', async () => {
    const r = await renderWith(pod, '/usr/bin/dash');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(read(r.out, 'serving-host'), 'Host-qz7tm\n');
    const doc = JSON.parse(read(r.out, 'pod.json')) as Record<string, string>;
    assert.deepEqual(
      { ...doc, renderedAt: 'x' },
      {
        podName: pod.POD_NAME,
        podIP: pod.POD_IP,
        nodeName: 'node-c',
        namespace: 'shop',
        servingHost: 'Host-qz7tm',
        renderedAt: 'x',
      },
    );
    assert.match(doc.renderedAt!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const html = read(r.out, 'index.html');
    assert.doesNotMatch(html, /@@[A-Z_]+@@/, 'every placeholder is replaced');
    assert.match(html, /data-field="serving-host">Host-qz7tm</);
    assert.match(html, /data-field="pod-ip">10\.244\.2\.9</);
    assert.equal(read(r.out, 'page.css'), read(source, 'page.css'));
  });

  it('follows the configured format and suffix length', async () => {
    const r = await renderWith({ ...pod, SERVING_HOST_FORMAT: 'srv-{suffix}.{podName}', SUFFIX_LENGTH: '3' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(read(r.out, 'serving-host'), `srv-7tm.${pod.POD_NAME}\n`);
  });

  it('uses the whole name when it is shorter than the suffix', async () => {
    const r = await renderWith({ ...pod, POD_NAME: 'abc' });
    assert.equal(read(r.out, 'serving-host'), 'Host-abc\n');
  });

  it('shows "served from region <name>" with REGION set, and hides that line without it', async () => {
    const east = await renderWith({ ...pod, REGION: 'east' }, '/usr/bin/dash');
    assert.equal(east.code, 0, east.stderr);
    assert.match(
      read(east.out, 'index.html'),
      /<p class="region" data-field="region-line" >served from region\s*<strong data-field="region">east<\/strong>/,
    );
    const none = await renderWith(pod, '/usr/bin/dash');
    assert.match(read(none.out, 'index.html'), /<p class="region" data-field="region-line" hidden>/);
  });

  it('escapes HTML in the title and the serving-host', async () => {
    const r = await renderWith({ ...pod, PAGE_TITLE: 'Tom & Jerry <3', SERVING_HOST_FORMAT: 'a&b-{suffix}' });
    assert.equal(r.code, 0, r.stderr);
    const html = read(r.out, 'index.html');
    assert.match(html, /<title>Tom &amp; Jerry &lt;3 · a&amp;b-qz7tm<\/title>/);
    assert.equal(read(r.out, 'serving-host'), 'a&b-qz7tm\n');
  });

  it('fails clearly without the downward API variables or with a bad suffix length, writing no page', async () => {
    let r = await renderWith({ POD_NAME: 'x' });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /POD_IP is not set \(downward API status\.podIP\)/);
    r = await renderWith({ ...pod, SUFFIX_LENGTH: 'five' });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /SUFFIX_LENGTH must be a positive number, got 'five'/);
    assert.throws(() => read(r.out, 'index.html'), /ENOENT/);
  });
});
