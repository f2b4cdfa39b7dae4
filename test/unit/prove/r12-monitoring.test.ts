// R12's pure judges: which ports must be scraped (from the pods, not from the PodMonitors, so a target
// dropped from a PodMonitor is caught), how targets and rules are judged, the drill copy of the backup
// rule, and the time an alert may take.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import {
  backupDrillRule,
  expectedTargets,
  fireBudgetSeconds,
  judgeRules,
  judgeTargets,
} from '../../../src/prove/requirements/r12-monitoring.js';

const pod = (name: string, component: string, ports: [string, string][], phase = 'Running'): V1Pod => ({
  metadata: { name, labels: { 'app.kubernetes.io/component': component } },
  spec: { containers: ports.map(([c, p]) => ({ name: c, ports: [{ name: p, containerPort: 1 }] })) },
  status: { phase, podIP: '10.0.0.1' },
});

describe('R12 monitoring judges', () => {
  const pods = [
    pod('web-db-0', 'db', [
      ['mariadb', 'mysql'],
      ['metrics', 'metrics'],
      ['binlog-archiver', 'dr-metrics'],
    ]),
    pod('web-web-a', 'web', [
      ['nginx', 'http'],
      ['metrics', 'metrics'],
    ]),
    pod('web-podwatch-a', 'podwatch', [['podwatch', 'http']]),
    pod('web-db-1', 'db', [['metrics', 'metrics']], 'Pending'),
  ];

  it('expects every metrics port of the running pods: exporters, archivers, podwatch; not the page port', () => {
    assert.deepEqual(
      expectedTargets(pods).map((t) => `${t.pod}/${t.port}`),
      ['web-db-0/dr-metrics', 'web-db-0/metrics', 'web-podwatch-a/http', 'web-web-a/metrics'],
    );
  });

  it('a port nothing scrapes, or a target that is down, is a problem naming the exporter and the pod', () => {
    const up = (pod: string, endpoint: string, health = 'up', lastError = '') => ({
      namespace: 'web',
      pod,
      endpoint,
      health,
      lastError,
    });
    const expected = expectedTargets(pods);
    assert.deepEqual(
      judgeTargets('web', expected, [
        up('web-db-0', 'metrics'),
        up('web-db-0', 'dr-metrics'),
        up('web-web-a', 'metrics'),
        up('web-podwatch-a', 'http'),
      ]),
      [],
    );
    const problems = judgeTargets('web', expected, [
      up('web-db-0', 'dr-metrics', 'down', 'connection refused'),
      up('web-web-a', 'metrics'),
      up('web-podwatch-a', 'http'),
      up('web-db-0', 'metrics').namespace === 'web'
        ? { ...up('web-db-0', 'metrics'), namespace: 'other' }
        : up('x', 'y'),
    ]);
    assert.deepEqual(problems, [
      'binlog archiver of web-db-0 (port dr-metrics) is down: connection refused',
      'mysqld exporter of web-db-0 (port metrics) is not a Prometheus target: nothing scrapes it',
    ]);
    assert.deepEqual(judgeTargets('web', [], []), ['the release runs no pod with a metrics port']);
  });

  it('rules: the group must be loaded and no rule in error', () => {
    assert.deepEqual(judgeRules('webstack-web', [{ name: 'webstack-web', rules: [{ name: 'A', health: 'ok' }] }]), []);
    assert.match(judgeRules('webstack-web', [])[0] ?? '', /no rule group webstack-web/);
    assert.deepEqual(
      judgeRules('webstack-web', [{ name: 'webstack-web', rules: [{ name: 'B', health: 'err', lastError: 'bad' }] }]),
      ['rule B does not evaluate: bad'],
    );
  });

  it('the backup drill copies the release rule with only its threshold changed, labelled as a drill', () => {
    const rule = {
      alert: 'WebstackBackupTooOld',
      expr: 'time() - max(x) > 93600 or absent(x)',
      for: '20s',
      labels: { severity: 'critical' },
    };
    assert.deepEqual(backupDrillRule(rule, 93600, 120), {
      ...rule,
      expr: 'time() - max(x) > 120 or absent(x)',
      labels: { severity: 'critical', drill: 'r12' },
    });
    assert.equal(
      backupDrillRule(rule, 3600, 120),
      undefined,
      'a rule that does not hold the threshold is not guessed at',
    );
  });

  it('an alert may take its for, one scrape, one evaluation and the group wait, plus the slack given', () => {
    assert.equal(
      fireBudgetSeconds({
        forSeconds: 20,
        scrapeSeconds: 5,
        evaluationSeconds: 5,
        groupWaitSeconds: 5,
        slackSeconds: 30,
      }),
      65,
    );
  });
});
