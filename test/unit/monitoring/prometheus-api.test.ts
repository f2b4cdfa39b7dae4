import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  activeTargets,
  alertmanagerAlerts,
  apiUrl,
  parseAlertmanagerAlerts,
  parseQueryResponse,
  parseRulesResponse,
  parseSampleValue,
  parseTargetsResponse,
  PromApiError,
  queryInstant,
  ruleGroups,
} from '../../../src/monitoring/prometheus-api.js';
import {
  FAKE_AM_ALERTS_ANSWER,
  FAKE_BAD_DATA_ANSWER,
  FAKE_EMPTY_VECTOR_ANSWER,
  FAKE_MATRIX_ANSWER,
  FAKE_RULES_ANSWER,
  FAKE_SCALAR_ANSWER,
  FAKE_SPECIAL_VALUES_ANSWER,
  FAKE_TARGETS_ANSWER,
  FAKE_TIMEOUT_ANSWER,
  FAKE_VECTOR_ANSWER,
} from './fake-answers.js';

describe('parseQueryResponse', () => {
  it('reads a vector: labels, value and evaluation time of each series', () => {
    assert.deepEqual(parseQueryResponse(FAKE_VECTOR_ANSWER), [
      { metric: { namespace: 'shop' }, value: 3, timestamp: 1772366400.123 },
      { metric: { namespace: 'shop-restore' }, value: 1, timestamp: 1772366400.123 },
    ]);
  });

  it('reads NaN and the infinities as Go writes them, and exponents', () => {
    const values = parseQueryResponse(FAKE_SPECIAL_VALUES_ANSWER).map((s) => s.value);
    assert.ok(Number.isNaN(values[0]));
    assert.deepEqual(values.slice(1), [Infinity, -Infinity, 1000]);
  });

  it('reads a scalar as one sample without labels, and an empty vector as none', () => {
    assert.deepEqual(parseQueryResponse(FAKE_SCALAR_ANSWER), [{ metric: {}, value: 42, timestamp: 1772366400.5 }]);
    assert.deepEqual(parseQueryResponse(FAKE_EMPTY_VECTOR_ANSWER), []);
  });

  it('refuses range vectors and strings, which the health view never asks for', () => {
    assert.throws(() => parseQueryResponse(FAKE_MATRIX_ANSWER), /range vector \(matrix\)/);
    assert.throws(
      () => parseQueryResponse({ status: 'success', data: { resultType: 'string', result: [1, 'x'] } }),
      /a string, not a number/,
    );
  });

  it('turns an error answer into a PromApiError with its errorType and error', () => {
    assert.throws(
      () => parseQueryResponse(FAKE_BAD_DATA_ANSWER),
      (err: unknown) =>
        err instanceof PromApiError &&
        err.errorType === 'bad_data' &&
        err.detail.includes('parse error') &&
        err.message === `Prometheus answered bad_data: ${FAKE_BAD_DATA_ANSWER.error}`,
    );
    assert.throws(() => parseQueryResponse(FAKE_TIMEOUT_ANSWER), { name: 'PromApiError', errorType: 'timeout' });
  });

  it('names the field that is wrong in a malformed answer', () => {
    assert.throws(() => parseQueryResponse('nope'), /not a JSON object/);
    assert.throws(() => parseQueryResponse({ status: 'success' }), /"data" is missing/);
    assert.throws(
      () =>
        parseQueryResponse({
          status: 'success',
          data: { resultType: 'vector', result: [{ metric: {}, value: [1, 'abc'] }] },
        }),
      /sample value "abc" is not a number/,
    );
    assert.throws(
      () =>
        parseQueryResponse({
          status: 'success',
          data: { resultType: 'vector', result: [{ metric: {}, histogram: [1, {}] }] },
        }),
      /result\[0\] has no "value" \(a native histogram\?\)/,
    );
    assert.throws(
      () =>
        parseQueryResponse({
          status: 'success',
          data: { resultType: 'vector', result: [{ metric: { a: 1 }, value: [1, '1'] }] },
        }),
      /result\[0\]\.metric\.a is not a string/,
    );
  });

  it('parseSampleValue refuses what is not a number', () => {
    assert.throws(() => parseSampleValue(''), /is not a number/);
    assert.throws(() => parseSampleValue(3), /is not a string/);
  });
});

describe('parseTargetsResponse', () => {
  it('reads pool, URL, health, last error and labels of the active targets', () => {
    const targets = parseTargetsResponse(FAKE_TARGETS_ANSWER);
    assert.equal(targets.length, 3);
    assert.deepEqual(targets[1], {
      scrapePool: 'podMonitor/shop/shop-webstack-web/0',
      scrapeUrl: 'http://10.244.2.9:9113/metrics',
      health: 'down',
      lastError: 'Get "http://10.244.2.9:9113/metrics": dial tcp 10.244.2.9:9113: connect: connection refused',
      labels: {
        container: 'exporter',
        endpoint: 'metrics',
        instance: '10.244.2.9:9113',
        job: 'shop/shop-webstack-web',
        namespace: 'shop',
        pod: 'shop-webstack-web-7d9f8c6b5-x2x4q',
      },
    });
  });

  it('refuses an unknown health and a missing list', () => {
    const bad = structuredClone(FAKE_TARGETS_ANSWER) as { data: { activeTargets: { health: string }[] } };
    bad.data.activeTargets[0]!.health = 'sick';
    assert.throws(
      () => parseTargetsResponse(bad),
      /activeTargets\[0\]\.health is "sick", expected one of up, down, unknown/,
    );
    assert.throws(() => parseTargetsResponse({ status: 'success', data: {} }), /"activeTargets" is missing/);
  });
});

describe('parseRulesResponse', () => {
  it('reads groups, alerting rules with state and alerts, recording rules, and rule errors', () => {
    const [group] = parseRulesResponse(FAKE_RULES_ANSWER);
    assert.ok(group);
    assert.equal(group.name, 'webstack-shop');
    assert.equal(group.rules.length, 4);
    const [sizeLow, ratio, podwatch, recording] = group.rules;
    assert.equal(sizeLow?.type, 'alerting');
    assert.equal(sizeLow?.state, 'firing');
    assert.equal(sizeLow?.lastError, '');
    assert.deepEqual(sizeLow?.alerts, [
      {
        labels: { alertname: 'WebstackGaleraClusterSizeLow', severity: 'critical' },
        annotations: { summary: 'Galera cluster shop-webstack-db has fewer members than its 3 replicas' },
        state: 'firing',
        activeAt: '2026-03-01T11:50:00Z',
      },
    ]);
    assert.equal(ratio?.state, 'inactive');
    assert.deepEqual(ratio?.alerts, []);
    // An alerting rule without an "alerts" field has none; its error is kept.
    assert.deepEqual(podwatch?.alerts, []);
    assert.equal(podwatch?.health, 'err');
    assert.equal(podwatch?.lastError, 'many-to-many matching not allowed');
    assert.equal(recording?.type, 'recording');
    assert.equal(recording?.state, undefined);
    assert.deepEqual(recording?.labels, {});
  });

  it('refuses an unknown rule type', () => {
    const bad = structuredClone(FAKE_RULES_ANSWER) as { data: { groups: { rules: { type: string }[] }[] } };
    bad.data.groups[0]!.rules[0]!.type = 'magic';
    assert.throws(() => parseRulesResponse(bad), /groups\[0\]\.rules\[0\]\.type is "magic"/);
  });
});

describe('parseAlertmanagerAlerts', () => {
  it('reads labels, annotations, start, fingerprint and state', () => {
    const alerts = parseAlertmanagerAlerts(FAKE_AM_ALERTS_ANSWER);
    assert.equal(alerts.length, 3);
    assert.deepEqual(alerts[1], {
      labels: FAKE_AM_ALERTS_ANSWER[1]!.labels,
      annotations: { summary: 'Galera member shop-webstack-db-2 is not Synced (state 2)' },
      startsAt: '2026-03-01T11:58:00.000Z',
      fingerprint: '9f8e7d6c5b4a3921',
      status: { state: 'suppressed', silencedBy: ['0b1c2d3e-silence'], inhibitedBy: [] },
    });
  });

  it('refuses what is not a list of alerts', () => {
    assert.throws(() => parseAlertmanagerAlerts({ status: 'success' }), /not a list/);
    assert.throws(
      () => parseAlertmanagerAlerts([{ labels: {}, startsAt: 'x', fingerprint: 'f' }]),
      /"status" is missing/,
    );
  });
});

describe('apiUrl', () => {
  it('keeps a route prefix, with or without a trailing slash, and encodes the parameters', () => {
    assert.equal(apiUrl('http://127.0.0.1:9090', 'api/v1/rules').href, 'http://127.0.0.1:9090/api/v1/rules');
    assert.equal(apiUrl('http://h:9090/prom/', '/api/v1/rules').href, 'http://h:9090/prom/api/v1/rules');
    assert.equal(
      apiUrl('http://h:9090/prom', 'api/v1/query', { query: 'up{job=~".+[-/]web"} == 1' }).href,
      'http://h:9090/prom/api/v1/query?query=up%7Bjob%3D%7E%22.%2B%5B-%2F%5Dweb%22%7D+%3D%3D+1',
    );
  });

  it('says what a good URL looks like when given a bad one', () => {
    assert.throws(
      () => apiUrl('prometheus:9090x', 'api/v1/query'),
      /not an http\(s\) URL: give one like http:\/\/127\.0\.0\.1:9090/,
    );
    assert.throws(() => apiUrl('::', 'api/v1/query'), /is not a URL/);
  });
});

/** A fake HTTP server standing in for Prometheus and Alertmanager: each path answers what `routes` says. */
interface FakeRoute {
  status: number;
  body: string;
  delayMs?: number;
  /** Send the headers and this much of the body at once, the rest after delayMs. */
  firstPart?: string;
}

describe('the fetch edge against a fake Prometheus and Alertmanager', () => {
  let fakeServer: Server;
  let fakeUrl = '';
  const seen: string[] = [];
  const routes = new Map<string, FakeRoute>();
  const json = (status: number, body: unknown): FakeRoute => ({ status, body: JSON.stringify(body) });

  before(async () => {
    fakeServer = createServer((req: IncomingMessage, res: ServerResponse) => {
      seen.push(req.url ?? '');
      const path = (req.url ?? '').split('?')[0] ?? '';
      const route = routes.get(path) ?? { status: 404, body: '404 page not found\n' };
      if (route.firstPart !== undefined) {
        res.writeHead(route.status, { 'content-type': 'application/json' }).write(route.firstPart);
        setTimeout(() => res.end(route.body), route.delayMs ?? 0);
        return;
      }
      setTimeout(
        () => res.writeHead(route.status, { 'content-type': 'application/json' }).end(route.body),
        route.delayMs ?? 0,
      );
    });
    await new Promise<void>((resolve) => fakeServer.listen(0, '127.0.0.1', resolve));
    fakeUrl = `http://127.0.0.1:${(fakeServer.address() as AddressInfo).port}`;
  });

  after(async () => {
    fakeServer.closeAllConnections();
    await new Promise<void>((resolve) =>
      fakeServer.close(() => {
        resolve();
      }),
    );
  });

  it('queryInstant sends the PromQL and returns the samples', async () => {
    routes.set('/fake-prom/api/v1/query', json(200, FAKE_VECTOR_ANSWER));
    const samples = await queryInstant(`${fakeUrl}/fake-prom`, 'min by (namespace) (x)');
    assert.equal(samples.length, 2);
    assert.equal(seen.at(-1), '/fake-prom/api/v1/query?query=min+by+%28namespace%29+%28x%29');
  });

  it('an error answer (HTTP 400) is a PromApiError naming the URL, the errorType and the error', async () => {
    routes.set('/api/v1/query', json(400, FAKE_BAD_DATA_ANSWER));
    await assert.rejects(queryInstant(fakeUrl, 'min by'), (err: unknown) => {
      assert.ok(err instanceof PromApiError);
      assert.equal(err.errorType, 'bad_data');
      assert.match(
        err.message,
        new RegExp(`^GET ${fakeUrl}/api/v1/query\\?query=min\\+by: Prometheus answered bad_data: invalid parameter`),
      );
      return true;
    });
  });

  it('activeTargets and ruleGroups ask for the right paths', async () => {
    routes.set('/api/v1/targets', json(200, FAKE_TARGETS_ANSWER));
    routes.set('/api/v1/rules', json(200, FAKE_RULES_ANSWER));
    assert.equal((await activeTargets(fakeUrl)).length, 3);
    assert.equal(seen.at(-1), '/api/v1/targets?state=active');
    assert.equal((await ruleGroups(fakeUrl)).length, 1);
    assert.equal(seen.at(-1), '/api/v1/rules');
  });

  it('alertmanagerAlerts asks for the active alerts and reads them', async () => {
    routes.set('/api/v2/alerts', json(200, FAKE_AM_ALERTS_ANSWER));
    assert.equal((await alertmanagerAlerts(fakeUrl)).length, 3);
    assert.equal(seen.at(-1), '/api/v2/alerts?active=true');
  });

  it("passes on Alertmanager's own error message", async () => {
    routes.set('/api/v2/alerts', json(400, 'active in query is invalid: strconv.ParseBool: parsing "x"'));
    await assert.rejects(
      alertmanagerAlerts(fakeUrl),
      /api\/v2\/alerts\?active=true: Alertmanager answered: active in query is invalid/,
    );
  });

  it('a wrong address (a non-JSON 404) says which URL and asks whether it is Prometheus', async () => {
    await assert.rejects(
      ruleGroups(`${fakeUrl}/wrong`),
      new RegExp(
        `^Error: GET ${fakeUrl}/wrong/api/v1/rules answered HTTP 404 Not Found that is not ` +
          `JSON \\("404 page not found\\\\n"\\): is this Prometheus's address\\? check the URL`,
      ),
    );
  });

  it('a server that does not answer in time fails after the timeout, naming the URL', async () => {
    routes.set('/slow/api/v1/query', { status: 200, body: '{}', delayMs: 2000 });
    const t0 = performance.now();
    await assert.rejects(
      queryInstant(`${fakeUrl}/slow`, 'up', { timeoutMs: 100 }),
      new RegExp(
        `GET ${fakeUrl}/slow/api/v1/query\\?query=up failed \\(no ` +
          `answer within 100 ms\\): check the URL .* Prometheus is running`,
      ),
    );
    assert.ok(performance.now() - t0 < 1500);
  });

  it('a server that stalls in the middle of its answer fails after the timeout too', async () => {
    routes.set('/stall/api/v1/rules', {
      status: 200,
      firstPart: '{"status":"success",',
      body: '"data":{}}',
      delayMs: 2000,
    });
    await assert.rejects(
      ruleGroups(`${fakeUrl}/stall`, { timeoutMs: 100 }),
      new RegExp(`GET ${fakeUrl}/stall/api/v1/rules failed \\(no answer within 100 ms\\)`),
    );
  });

  it('a refused connection names the URL, the reason and what to check', async () => {
    // A port that was free a moment ago: nothing listens there.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) =>
      probe.close(() => {
        resolve();
      }),
    );
    await assert.rejects(
      alertmanagerAlerts(`http://127.0.0.1:${port}`),
      new RegExp(
        `GET http://127.0.0.1:${port}/api/v2/alerts\\?active=true failed ` +
          `\\(fetch failed: ECONNREFUSED\\): check the URL \\(host, port 9093`,
      ),
    );
  });
});
