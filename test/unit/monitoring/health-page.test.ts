import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Script } from 'node:vm';
import {
  agoText,
  formatRate,
  HEALTH_PAGE_HTML,
  humanDuration,
  POLL_MS,
  renderHealthBody,
} from '../../../src/monitoring/health-page.js';
import {
  healthModel,
  type Figure,
  type FigureKey,
  type HealthInputs,
  type HealthModel,
} from '../../../src/monitoring/health.js';
import {
  parseAlertmanagerAlerts,
  parseRulesResponse,
  parseTargetsResponse,
} from '../../../src/monitoring/prometheus-api.js';
import {
  FAKE_AM_ALERTS_ANSWER,
  FAKE_EVAL_TIME,
  FAKE_RULES_ANSWER,
  FAKE_TARGETS_ANSWER,
  fakeNoSamples,
} from './fake-answers.js';

/** The page's inline script. */
const script = (): string =>
  HEALTH_PAGE_HTML.slice(
    HEALTH_PAGE_HTML.indexOf('<script>') + '<script>'.length,
    HEALTH_PAGE_HTML.lastIndexOf('</script>'),
  );

/** A model from fake inputs: namespace shop with numbers in every figure, and a fake alert carrying markup. */
function fakeModel(): HealthModel {
  const at = (value: number) => ({
    ok: true as const,
    value: [{ metric: { namespace: 'shop' }, value, timestamp: FAKE_EVAL_TIME }],
  });
  const alerts = structuredClone(FAKE_AM_ALERTS_ANSWER);
  alerts[0]!.annotations.summary = '<img src=x onerror=alert(1)> & "quoted"';
  const inputs: HealthInputs = {
    now: FAKE_EVAL_TIME * 1000,
    prometheusUrl: 'http://fake-prometheus:9090',
    alertmanagerUrl: 'http://fake-alertmanager:9093',
    queries: {
      galeraSize: at(3),
      galeraMembers: at(3),
      galeraSynced: at(2),
      galeraPrimary: at(3),
      galeraReady: at(3),
      writeRate: at(12.345),
      webUp: at(2),
      webTargets: at(2),
      podwatchUp: at(1),
      podwatchTargets: at(2),
      backupLastSuccess: at(FAKE_EVAL_TIME - 11_520),
      backupVerifyFailed: at(0),
      backupVerified: at(FAKE_EVAL_TIME - 600),
      binlogLag: at(4),
    },
    targets: { ok: true, value: parseTargetsResponse(FAKE_TARGETS_ANSWER) },
    rules: { ok: true, value: parseRulesResponse(FAKE_RULES_ANSWER) },
    alerts: { ok: true, value: parseAlertmanagerAlerts(alerts) },
  };
  return healthModel(inputs);
}

/** The attributes and text of the element with `attr="value"` (first match), read from the HTML. */
function element(html: string, attr: string, value: string): { attrs: Record<string, string>; text: string } {
  const m = new RegExp(`<(\\w+)([^>]*\\s${attr}="${value}"[^>]*)>([^<]*)`).exec(html);
  assert.ok(m, `no element with ${attr}="${value}"`);
  const attrs = Object.fromEntries([...(m[2] ?? '').matchAll(/([\w-]+)="([^"]*)"/g)].map((a) => [a[1]!, a[2]!]));
  return { attrs, text: m[3] ?? '' };
}

describe('HEALTH_PAGE_HTML', () => {
  it('is titled "kstack health" and loads nothing from elsewhere', () => {
    assert.match(HEALTH_PAGE_HTML, /<title>kstack health<\/title>/);
    assert.doesNotMatch(HEALTH_PAGE_HTML, /https?:\/\//);
    assert.doesNotMatch(HEALTH_PAGE_HTML, /\/\/[\w.-]+\.[a-z]{2,}\//i);
    assert.doesNotMatch(HEALTH_PAGE_HTML, /<link|<img|\ssrc=|@import|url\(/i);
    assert.equal(HEALTH_PAGE_HTML.match(/<script>/g)?.length, 1);
  });

  it('carries a script that parses and polls api/health every 2 s', () => {
    assert.doesNotThrow(() => new Script(script()));
    assert.equal(POLL_MS, 2000);
    assert.match(script(), /fetch\('api\/health'/);
    assert.match(script(), /setTimeout\(poll, 2000\)/);
    // The rendering code the tests run is the code the page runs.
    assert.ok(script().includes(renderHealthBody.toString()));
  });

  it('says "no data yet" before the first answer', () => {
    assert.match(HEALTH_PAGE_HTML, /<main id="health"><p class="empty" id="no-data">no data yet<\/p><\/main>/);
    assert.match(HEALTH_PAGE_HTML, /id="status" data-state="connecting"/);
  });
});

describe('renderHealthBody', () => {
  it('renders each figure with its number, raw value, total and status', () => {
    const html = renderHealthBody(fakeModel());
    assert.deepEqual(element(html, 'data-namespace', 'shop').attrs['data-status'], 'critical');
    const size = element(html, 'data-figure', 'galera-size');
    assert.equal(size.text, '3');
    assert.equal(size.attrs['data-of'], '3');
    assert.equal(size.attrs['data-status'], 'ok');
    assert.equal(element(html, 'data-figure', 'galera-primary').text, 'Primary');
    assert.deepEqual(
      [
        element(html, 'data-figure', 'galera-synced').text,
        element(html, 'data-figure', 'galera-synced').attrs['data-status'],
      ],
      ['2', 'warn'],
    );
    assert.equal(element(html, 'data-card', 'galera').attrs['data-status'], 'warn');
    const rate = element(html, 'data-figure', 'write-rate');
    assert.deepEqual([rate.text, rate.attrs['data-value']], ['12.35', '12.345']);
    assert.equal(element(html, 'data-figure', 'web-replicas').text, '2');
    assert.equal(element(html, 'data-figure', 'podwatch').attrs['data-status'], 'warn');
    const age = element(html, 'data-figure', 'backup-age');
    assert.deepEqual([age.text, age.attrs['data-value']], ['3 h 12 min', '11520']);
    assert.equal(element(html, 'data-figure', 'backup-verify-failed').text, 'passed');
    assert.equal(element(html, 'data-figure', 'binlog-lag').text, '4 s');
    assert.deepEqual(
      [element(html, 'data-figure', 'targets').text, element(html, 'data-figure', 'targets').attrs['data-of']],
      ['1', '2'],
    );
    assert.equal(element(html, 'data-figure', 'alerts').text, '1');
    assert.match(element(html, 'data-note', 'web-replicas').text, /2 of 2 web replicas answer/);
  });

  it('lists the alerts firing first, with escaped text, and the targets not up', () => {
    const html = renderHealthBody(fakeModel());
    const row = element(html, 'data-alert', 'WebstackGaleraClusterSizeLow');
    assert.equal(row.attrs['data-severity'], 'critical');
    assert.equal(row.attrs['data-state'], 'active');
    assert.ok(
      html.indexOf('data-alert="WebstackGaleraClusterSizeLow"') <
        html.indexOf('data-alert="WebstackGaleraMemberNotSynced"'),
    );
    assert.ok(html.includes('&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quoted&quot;'));
    assert.doesNotMatch(html, /<img/);
    assert.equal(element(html, 'data-col', 'since').text, '5 min ago');
    assert.match(html, /<tr data-down-target="shop-webstack-web-7d9f8c6b5-x2x4q">/);
    assert.match(html, /<section class="ns" id="other-alerts">.*data-alert="PrometheusNotConnectedToAlertmanagers"/);
    assert.match(html, /<li data-problem="rule">rule webstack-shop\/WebstackPodwatchDown fails: many-to-many/);
  });

  it('renders "no data yet" cleanly: no namespace, no undefined, NaN or null on screen', () => {
    const empty = healthModel({
      now: FAKE_EVAL_TIME * 1000,
      prometheusUrl: 'http://fake-prometheus:9090',
      alertmanagerUrl: 'http://fake-alertmanager:9093',
      queries: fakeNoSamples(),
      targets: { ok: true, value: [] },
      rules: { ok: true, value: [] },
      alerts: { ok: true, value: [] },
    });
    const html = renderHealthBody(empty);
    assert.match(html, /^<p class="empty" id="no-data">no data yet/);
    assert.doesNotMatch(html, /undefined|NaN|null/);
  });

  it('renders a namespace without data as dashes, and failed sources as problems', () => {
    const model = fakeModel();
    const shop = model.namespaces[0]!;
    for (const key of Object.keys(shop.figures) as FigureKey[]) {
      const f: Figure<number | boolean> = shop.figures[key];
      f.value = null;
      f.status = 'unknown';
    }
    model.sources.prometheus = {
      url: 'http://fake-prometheus:9090',
      ok: false,
      error: 'GET … failed (no answer within 5000 ms)',
    };
    const html = renderHealthBody(model);
    assert.equal(element(html, 'data-figure', 'galera-size').text, '—');
    assert.equal(element(html, 'data-figure', 'galera-size').attrs['data-value'], '');
    assert.equal(element(html, 'data-figure', 'backup-age').text, '—');
    assert.doesNotMatch(html, /undefined|NaN|>null</);
    assert.match(html, /<li data-problem="prometheus">Prometheus http:\/\/fake-prometheus:9090: GET … failed/);
  });
});

describe('page formatting', () => {
  it('humanises durations and rates', () => {
    assert.equal(humanDuration(0), '0 s');
    assert.equal(humanDuration(59.4), '59 s');
    assert.equal(humanDuration(60), '1 min');
    assert.equal(humanDuration(3600), '1 h');
    assert.equal(humanDuration(11_520), '3 h 12 min');
    assert.equal(humanDuration(86_400 * 2 + 3600 * 4), '2 d 4 h');
    assert.equal(humanDuration(-5), '0 s');
    assert.equal(formatRate(0), '0');
    assert.equal(formatRate(0.254), '0.25');
    assert.equal(formatRate(1234.6), '1235');
    assert.equal(agoText('2026-03-01T11:55:00Z', '2026-03-01T12:00:00Z'), '5 min ago');
    assert.equal(agoText('not a time', '2026-03-01T12:00:00Z'), 'not a time');
  });
});
