import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration, parsePodwatchConfig } from '../../../src/podwatch/config.js';
import { UserError } from '../../../src/util/errors.js';

const fails = (fn: () => unknown, pattern: RegExp): void => {
  assert.throws(fn, (err: unknown) => err instanceof UserError && pattern.test(err.message));
};

describe('parsePodwatchConfig', () => {
  it('--alertmanager (or PODWATCH_ALERTMANAGER, or alertmanager in the file) turns on the 2 s poll', () => {
    assert.equal(parsePodwatchConfig({}, {}, undefined).alertmanager, undefined);
    assert.deepEqual(parsePodwatchConfig({ alertmanager: 'http://127.0.0.1:9093' }, {}, undefined).alertmanager, {
      url: 'http://127.0.0.1:9093/',
      intervalMs: 2000,
      timeoutMs: 5000,
    });
    const env = { PODWATCH_ALERTMANAGER: 'http://am.monitoring.svc:9093/am' };
    assert.equal(parsePodwatchConfig({}, env, undefined).alertmanager?.url, 'http://am.monitoring.svc:9093/am');
    assert.equal(
      parsePodwatchConfig({}, {}, 'alertmanager: http://file.invalid:9093\n').alertmanager?.url,
      'http://file.invalid:9093/',
    );
    fails(
      () => parsePodwatchConfig({ alertmanager: 'am:9093' }, {}, undefined),
      /^--alertmanager: 'am:9093' is not an http\(s\) URL/,
    );
    fails(() => parsePodwatchConfig({}, { PODWATCH_ALERTMANAGER: 'ftp://x' }, undefined), /^PODWATCH_ALERTMANAGER: /);
  });

  it('has working defaults: all namespaces, terminal output, streaming lists, no HTTP server', () => {
    const c = parsePodwatchConfig({}, {}, undefined);
    assert.deepEqual(c.namespaces, []);
    assert.equal(c.output, 'terminal');
    assert.equal(c.streamingList, true);
    assert.equal(c.listen, undefined);
    assert.equal(c.leaderElection, undefined);
    assert.ok(c.stallTimeoutMs > c.watchTimeoutSeconds * 1000);
  });

  it('flags beat environment, environment beats the file', () => {
    const yaml = 'namespaces: [from-file]\nlabelSelector: app=file\noutput: json\nstallTimeout: 2m\n';
    const env = { PODWATCH_SELECTOR: 'app=env', PODWATCH_NAMESPACE: 'a,b' };
    const c = parsePodwatchConfig({ output: 'none' }, env, yaml);
    assert.deepEqual(c.namespaces, ['a', 'b']);
    assert.equal(c.labelSelector, 'app=env');
    assert.equal(c.output, 'none');
    assert.equal(c.stallTimeoutMs, 120_000);
    assert.deepEqual(parsePodwatchConfig({ namespace: ['x', 'y,z'] }, env, yaml).namespaces, ['x', 'y', 'z']);
  });

  it('reads webhooks from flags and the file, with per-hook settings', () => {
    const yaml =
      'webhooks:\n  - url: http://127.0.0.1:9000/hook\n    format: slack\n    queueSize: 5\n    timeout: 2s\n';
    const c = parsePodwatchConfig({ webhook: ['http://127.0.0.1:9001/'], 'webhook-queue-size': '7' }, {}, yaml);
    assert.deepEqual(
      c.webhooks.map((w) => [w.url, w.format, w.queueSize, w.timeoutMs]),
      [
        ['http://127.0.0.1:9001/', 'json', 7, 5000],
        ['http://127.0.0.1:9000/hook', 'slack', 5, 2000],
      ],
    );
  });

  it('leader election with sane defaults, from a file mapping', () => {
    const c = parsePodwatchConfig(
      {},
      { POD_NAME: 'pw-0' },
      'leaderElection:\n  enabled: true\n  leaseNamespace: monitoring\n',
    );
    assert.deepEqual(c.leaderElection, {
      leaseName: 'podwatch',
      leaseNamespace: 'monitoring',
      identity: 'pw-0',
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2000,
    });
  });

  it('names the field and what is allowed on every error', () => {
    fails(
      () => parsePodwatchConfig({ output: 'xml' }, {}, undefined),
      /^--output: 'xml' is not allowed: use one of terminal, json, none$/,
    );
    fails(
      () => parsePodwatchConfig({}, { PODWATCH_STALL_TIMEOUT: '90' }, undefined),
      /^PODWATCH_STALL_TIMEOUT: '90' is not a duration/,
    );
    fails(() => parsePodwatchConfig({}, {}, 'stalTimeout: 1m'), /^config file: unknown setting 'stalTimeout'/);
    fails(
      () => parsePodwatchConfig({}, {}, 'webhooks:\n  - url: ftp://x\n'),
      /^webhooks\[0\]\.url \(config file\): 'ftp:\/\/x' is not an http\(s\) URL$/,
    );
    fails(
      () => parsePodwatchConfig({ namespace: ['Bad_NS'] }, {}, undefined),
      /^--namespace: 'Bad_NS' is not a valid name/,
    );
    fails(
      () => parsePodwatchConfig({ listen: 'localhost' }, {}, undefined),
      /^--listen: 'localhost' must be host:port/,
    );
    fails(
      () => parsePodwatchConfig({ 'stall-timeout': '10s', 'watch-timeout': '30s' }, {}, undefined),
      /^--stall-timeout: must be longer than the watch timeout/,
    );
    fails(
      () =>
        parsePodwatchConfig({ 'leader-elect': true, 'lease-duration': '5s', 'renew-deadline': '10s' }, {}, undefined),
      /retry period < renew deadline < lease duration/,
    );
    fails(() => parsePodwatchConfig({ 'all-namespaces': true, namespace: ['a'] }, {}, undefined), /contradict/);
    fails(() => parsePodwatchConfig({}, {}, 'a: [unclosed'), /^config file: not valid YAML/);
    fails(
      () => parsePodwatchConfig({ 'webhook-queue-size': '0' }, {}, undefined),
      /^--webhook-queue-size: '0' must be a whole number from 1/,
    );
  });

  it('understands the variables the webstack chart sets', () => {
    const c = parsePodwatchConfig(
      {},
      {
        PODWATCH_PORT: '8080',
        PODWATCH_SCOPE: 'namespace',
        PODWATCH_NAMESPACE: 'web',
        PODWATCH_LEADER_ELECTION: 'true',
        PODWATCH_LEASE_NAME: 'web-podwatch',
        PODWATCH_LEASE_NAMESPACE: 'web',
        POD_NAME: 'pw-1',
      },
      undefined,
    );
    assert.deepEqual(c.listen, { host: '0.0.0.0', port: 8080 });
    assert.deepEqual(c.namespaces, ['web']);
    assert.equal(c.leaderElection?.leaseName, 'web-podwatch');
    assert.equal(c.leaderElection?.identity, 'pw-1');
    assert.deepEqual(
      parsePodwatchConfig({}, { PODWATCH_SCOPE: 'cluster', PODWATCH_NAMESPACE: '' }, undefined).namespaces,
      [],
    );
    fails(
      () => parsePodwatchConfig({}, { PODWATCH_SCOPE: 'galaxy' }, undefined),
      /^PODWATCH_SCOPE: 'galaxy' is not allowed: use one of cluster, namespace$/,
    );
    fails(
      () => parsePodwatchConfig({}, { PODWATCH_PORT: 'http' }, undefined),
      /^PODWATCH_PORT: 'http' must be a whole number/,
    );
  });

  it('parses durations with units only', () => {
    assert.equal(parseDuration('500ms', 'x'), 500);
    assert.equal(parseDuration('1.5s', 'x'), 1500);
    assert.equal(parseDuration('2m', 'x'), 120_000);
    assert.throws(() => parseDuration(30, 'x'), UserError);
  });

  it('listen accepts host:port and a bare port', () => {
    assert.deepEqual(parsePodwatchConfig({ listen: '127.0.0.1:8080' }, {}, undefined).listen, {
      host: '127.0.0.1',
      port: 8080,
    });
    assert.deepEqual(parsePodwatchConfig({ listen: '9090' }, {}, undefined).listen, { host: '0.0.0.0', port: 9090 });
  });
});
