// The page test's judgement: the page's data-field elements, the serving-host form, /api/info, and the
// verdict over answers from several replicas.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  dataField,
  expectedServingHost,
  judgeInfo,
  judgePage,
  pageVerdict,
  servingHostPattern,
  type Judged,
} from '../../../src/charttest/page.js';
import { repoRoot } from '../../../src/util/paths.js';

const form = { format: 'Host-{suffix}', suffixLength: 5 };

/** The chart's own page template, filled as render-page.sh fills it. */
function page(podName: string, podIP: string, servingHost: string): string {
  const tmpl = readFileSync(join(repoRoot, 'charts/webstack/files/web/index.html.tmpl'), 'utf8');
  return tmpl
    .replaceAll('@@SERVING_HOST@@', servingHost)
    .replaceAll('@@POD_IP@@', podIP)
    .replaceAll('@@POD_NAME@@', podName)
    .replaceAll('@@NODE_NAME@@', 'web-1')
    .replaceAll('@@POD_NAMESPACE@@', 'shop')
    .replaceAll('@@TITLE@@', 'webstack')
    .replaceAll('@@RENDERED_AT@@', '2026-01-01T00:00:00Z');
}

const info = (
  name: string,
  ip: string,
  servingHost: string,
  data: Record<string, unknown> = { ok: true, configured: true, message: 'visit 3' },
): string => JSON.stringify({ pod: { name, ip, namespace: 'shop', node: 'web-1' }, servingHost, time: 'now', data });

describe('charttest page: reading the page', () => {
  it('reads data-field elements and decodes HTML entities', () => {
    assert.equal(dataField('<code data-field="pod-ip">10.0.0.1</code>', 'pod-ip'), '10.0.0.1');
    assert.equal(dataField('<span class="x" data-field="t">a &amp; b &lt;c&gt;</span>', 't'), 'a & b <c>');
    assert.equal(dataField('<p>nothing</p>', 'pod-ip'), null);
  });

  it('computes the serving-host as render-page.sh does, and a pattern for any pod', () => {
    assert.equal(expectedServingHost('Host-{suffix}', 5, 'ws-webstack-web-6f7c9d-abc12'), 'Host-abc12');
    assert.equal(expectedServingHost('{podName}/{suffix}', 3, 'ab'), 'ab/ab');
    const re = servingHostPattern('Host-{suffix}', 5);
    assert.ok(re.test('Host-abc12'));
    assert.ok(!re.test('Host-'));
    assert.ok(!re.test('host-abc12'));
    assert.ok(!re.test('Host-abc123'));
    assert.ok(servingHostPattern('srv.{podName}', 5).test('srv.ws-web-1'));
    assert.ok(!servingHostPattern('srv.{podName}', 5).test('srvXws-web-1'), 'the literal dot is not a wildcard');
  });
});

describe('charttest page: one answer', () => {
  const name = 'ws-webstack-web-6f7c9d-abc12';

  it('passes the chart page with Host-xxxxx and the pod IP', () => {
    const j = judgePage(200, page(name, '10.244.1.7', 'Host-abc12'), form);
    assert.deepEqual(j, { kind: 'good', served: { podName: name, podIP: '10.244.1.7', servingHost: 'Host-abc12' } });
  });

  it('retries when there is no answer or not a 200; fails a 200 with wrong content', () => {
    assert.equal(judgePage(null, 'ECONNREFUSED', form).kind, 'retry');
    assert.equal(judgePage(502, '', form).kind, 'retry');
    const wrongHost = judgePage(200, page(name, '10.244.1.7', 'Host-zzzzz'), form);
    assert.equal(wrongHost.kind, 'bad');
    assert.match((wrongHost as { reason: string }).reason, /does not belong to pod .*expected 'Host-abc12'/);
    const form2 = judgePage(200, page(name, '10.244.1.7', 'abc12'), form);
    assert.match((form2 as { reason: string }).reason, /not of the form 'Host-\{suffix\}'/);
    const noIp = judgePage(200, page(name, '@@POD_IP@@', 'Host-abc12'), form);
    assert.match((noIp as { reason: string }).reason, /pod IP '@@POD_IP@@' is not an IP address/);
    const custom = judgePage(200, '<h1>Hello</h1>', form);
    assert.match((custom as { reason: string }).reason, /no data-field/);
  });

  it('judges /api/info: identity, and the db data when expected', () => {
    assert.equal(judgeInfo(200, info(name, '10.244.1.7', 'Host-abc12'), form, true).kind, 'good');
    const notRead = judgeInfo(
      200,
      info(name, '10.244.1.7', 'Host-abc12', { ok: false, configured: true, message: 'connect ETIMEDOUT' }),
      form,
      true,
    );
    assert.deepEqual(notRead, { kind: 'retry', reason: '/api/info: data not read: connect ETIMEDOUT' });
    const none = judgeInfo(
      200,
      info(name, '10.244.1.7', 'Host-abc12', { ok: false, configured: false, message: 'No database' }),
      form,
      true,
    );
    assert.equal(none.kind, 'bad');
    assert.equal(
      judgeInfo(200, info(name, '10.244.1.7', 'Host-abc12', { ok: false, configured: false }), form, false).kind,
      'good',
    );
    assert.equal(judgeInfo(503, '{"error":"webinfo down"}', form, false).kind, 'retry');
    assert.equal(judgeInfo(200, '<html>', form, false).kind, 'bad');
    assert.equal(judgeInfo(200, '{"pod":{}}', form, false).kind, 'bad');
  });
});

describe('charttest page: the verdict', () => {
  const good = (n: string, ip: string): Judged => ({
    kind: 'good',
    served: { podName: `web-x-${n}`, podIP: ip, servingHost: `Host-${n}` },
  });

  it('passes with enough good answers and names the replicas that answered', () => {
    const v = pageVerdict(
      [good('aaaaa', '10.0.0.1'), good('bbbbb', '10.0.0.2')],
      [good('aaaaa', '10.0.0.1'), good('ccccc', '10.0.0.3')],
      2,
      false,
    );
    assert.equal(v.ok, true);
    assert.deepEqual(v.replicas, ['web-x-aaaaa', 'web-x-bbbbb', 'web-x-ccccc']);
    assert.match(v.summary, /^3 replica\(s\) answered: Host-aaaaa = web-x-aaaaa \(10\.0\.0\.1\), /);
  });

  it('fails short of good answers, with the last reason and whether time ran out', () => {
    const v = pageVerdict([good('aaaaa', '10.0.0.1'), { kind: 'retry', reason: 'page: HTTP 502' }], null, 2, true);
    assert.equal(v.ok, false);
    assert.equal(v.summary, 'page: 1 of 2 good answers before the time ran out; last: page: HTTP 502');
  });

  it('fails on one bad answer even when the others were good, and on a pod showing two IPs', () => {
    assert.equal(
      pageVerdict([good('aaaaa', '10.0.0.1'), { kind: 'bad', reason: 'page: x' }], null, 1, false).summary,
      'page: x',
    );
    const two = pageVerdict([good('aaaaa', '10.0.0.1')], [good('aaaaa', '10.0.0.9')], 1, false);
    assert.equal(two.ok, false);
    assert.match(two.summary, /two IPs/);
  });

  it('needs nothing from /api/info when webinfo is off (null)', () => {
    assert.equal(pageVerdict([good('aaaaa', '10.0.0.1')], null, 1, false).ok, true);
  });
});
