// The chart's rendered NetworkPolicies, fed to our NetworkPolicy evaluator (src/netpol/evaluator.ts) with pods
// labelled and ported exactly as the chart's own workloads render them: the reachability matrix must be the
// designed one — web→db:3306 only, Galera ports only among db members, backup Jobs→db:3306 and object
// storage, DNS only to kube-dns, metrics only from the monitoring namespace, podwatch→API, nothing else.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { V1Pod, V1PodTemplateSpec } from '@kubernetes/client-node';
import { helmTemplate, webstackChartDir } from '../../../../src/chart/helm.js';
import { parseManifests, type K8sObject } from '../../../../src/chart/manifests.js';
import {
  buildModel,
  ipEndpoint,
  podEndpoint,
  type Endpoint,
  type PodInfo,
  type Protocol,
} from '../../../../src/netpol/evaluator.js';
import { podInfo, networkPoliciesOf } from '../../../../src/netpol/objects.js';
import { expectedMatrix, formatTable, targetName, type Target } from '../../../../src/netpol/matrix.js';

const NS = 'shop';

/** A pod as the workload's template would create it, with an address. */
function podFrom(template: V1PodTemplateSpec, name: string, ip: string): PodInfo {
  const pod: V1Pod = {
    metadata: { name, namespace: NS, labels: template.metadata?.labels ?? {} },
    spec: template.spec,
    status: { podIP: ip, phase: 'Running' },
  };
  return podInfo(pod);
}

function templateOf(objs: K8sObject[], kind: string, component: string): V1PodTemplateSpec {
  const w = objs.find((o) => o.kind === kind && o.metadata.labels?.['app.kubernetes.io/component'] === component);
  assert.ok(w, `a ${kind} for ${component} is rendered`);
  return (w.spec as { template: V1PodTemplateSpec }).template;
}

interface Scenario {
  objs: K8sObject[];
  pods: PodInfo[];
}

const API_IP = '10.77.42.1';
const OBJECT_STORE_IP = '192.0.2.10';
const INTERNET_IP = '198.51.100.7';

async function scenario(values?: Record<string, unknown>, valuesFiles?: string[]): Promise<Scenario> {
  const objs = parseManifests(await helmTemplate({ release: 'web', namespace: NS, values, valuesFiles }));
  const web = templateOf(objs, 'Deployment', 'web');
  const db = templateOf(objs, 'StatefulSet', 'db');
  const pw = templateOf(objs, 'Deployment', 'podwatch');
  // The backup Jobs (templates/backup/) carry the release's selector labels with component=backup.
  const backupJob = objs.find(
    (o) =>
      (o.kind === 'CronJob' || o.kind === 'Job') && o.metadata.labels?.['app.kubernetes.io/component'] === 'backup',
  );
  const backupTemplate: V1PodTemplateSpec = backupJob
    ? (backupJob.kind === 'CronJob'
        ? (backupJob.spec as { jobTemplate: { spec: { template: V1PodTemplateSpec } } }).jobTemplate.spec
        : (backupJob.spec as { template: V1PodTemplateSpec })
      ).template
    : {
        metadata: {
          labels: {
            'app.kubernetes.io/name': 'webstack',
            'app.kubernetes.io/instance': 'web',
            'app.kubernetes.io/component': 'backup',
          },
        },
        spec: { containers: [{ name: 'backup' }] },
      };
  const pods: PodInfo[] = [
    podFrom(web, 'web-a', '10.244.1.10'),
    podFrom(db, 'db-0', '10.244.2.10'),
    podFrom(db, 'db-1', '10.244.2.11'),
    podFrom(pw, 'podwatch-a', '10.244.1.20'),
    podFrom(backupTemplate, 'backup-a', '10.244.2.30'),
    // Not the release's: a pod in the same namespace, Prometheus, the cluster DNS and another kube-system pod.
    { namespace: NS, name: 'stranger', labels: { app: 'other' }, ips: ['10.244.1.40'], ports: [{ port: 80 }] },
    { namespace: 'monitoring', name: 'prometheus', labels: { app: 'prometheus' }, ips: ['10.244.1.50'] },
    {
      namespace: 'kube-system',
      name: 'coredns',
      labels: { 'k8s-app': 'kube-dns' },
      ips: ['10.244.1.2'],
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP' },
        { name: 'dns-tcp', port: 53 },
      ],
    },
    { namespace: 'kube-system', name: 'metrics-server', labels: { 'k8s-app': 'metrics-server' }, ips: ['10.244.1.3'] },
    { namespace: 'storage', name: 'minio', labels: { app: 'minio' }, ips: ['10.244.2.60'], ports: [{ port: 9000 }] },
  ];
  return { objs, pods };
}

const p = (name: string): Endpoint =>
  podEndpoint(
    ['prometheus'].includes(name)
      ? 'monitoring'
      : ['coredns', 'metrics-server'].includes(name)
        ? 'kube-system'
        : name === 'minio'
          ? 'storage'
          : NS,
    name,
  );
const t = (to: Endpoint, port: number, protocol: Protocol = 'TCP'): Target => ({ to, port, protocol });

const sources = ['web-a', 'db-0', 'podwatch-a', 'backup-a', 'stranger', 'prometheus'].map(p);
const targets: Target[] = [
  t(p('db-1'), 3306),
  t(p('db-1'), 4567),
  t(p('db-1'), 4567, 'UDP'),
  t(p('db-1'), 4568),
  t(p('db-1'), 4444),
  t(p('db-1'), 8081),
  t(p('db-1'), 9104),
  t(p('db-1'), 22),
  t(p('web-a'), 8080),
  t(p('web-a'), 9113),
  t(p('web-a'), 8082),
  t(p('podwatch-a'), 8080),
  t(p('backup-a'), 8080),
  t(p('coredns'), 53, 'UDP'),
  t(p('coredns'), 53),
  t(p('metrics-server'), 53, 'UDP'),
  t(p('stranger'), 80),
  t(p('minio'), 9000),
  t(ipEndpoint(API_IP), 6443),
  t(ipEndpoint(API_IP), 443),
  t(ipEndpoint(API_IP), 31234),
  t(ipEndpoint(OBJECT_STORE_IP), 443),
  t(ipEndpoint(INTERNET_IP), 443),
];

interface Design {
  apiAnyPort: boolean;
  apiAnywhere: boolean;
  objectStoreIp: boolean;
  objectStoreNs: boolean;
  webFromAnywhere: boolean;
  /** web's http port is open to the monitoring namespace (networkPolicy.web.fromNamespaces). */
  webFromMonitoring?: boolean;
}

/** The designed matrix (docs/chart.md, "Network policies"), written independently of the templates. */
function designed(from: string, target: Target, d: Design): boolean {
  const to = target.to.kind === 'pod' ? target.to.name : target.to.ip;
  const port = target.port;
  const proto = target.protocol ?? 'TCP';
  const release = ['web-a', 'db-0', 'db-1', 'podwatch-a', 'backup-a'];
  if (from === to) return true; // a pod cannot block traffic to itself
  // Egress of the release's pods (default deny, then the allow-lists); everyone else's egress is open.
  const egressOk = (): boolean => {
    if (!release.includes(from)) return true;
    if (to === 'coredns' && port === 53) return true; // DNS, UDP and TCP, for every pod of the release
    if (from === 'web-a') return to === 'db-1' && port === 3306 && proto === 'TCP';
    if (from === 'db-0')
      return to === 'db-1' && (proto === 'UDP' ? port === 4567 : [3306, 4567, 4568, 4444, 8081].includes(port));
    if (from === 'backup-a') {
      if (to === 'db-1') return port === 3306 && proto === 'TCP';
      if (to === OBJECT_STORE_IP) return d.objectStoreIp && port === 443;
      if (to === 'minio') return d.objectStoreNs && port === 9000;
      return false;
    }
    if (from === 'podwatch-a') {
      if (to === API_IP) return d.apiAnyPort || port === 443 || port === 6443;
      if (to === OBJECT_STORE_IP || to === INTERNET_IP)
        return d.apiAnywhere && (d.apiAnyPort || port === 443 || port === 6443);
      return false;
    }
    return false;
  };
  // Ingress of the release's pods.
  const ingressOk = (): boolean => {
    if (!release.includes(to)) return true;
    if (to === 'db-1') {
      if (port === 3306 && proto === 'TCP' && ['web-a', 'backup-a', 'db-0'].includes(from)) return true;
      if (from === 'db-0') return proto === 'UDP' ? port === 4567 : [4567, 4568, 4444, 8081].includes(port);
      return from === 'prometheus' && port === 9104;
    }
    if (to === 'web-a')
      return (
        (port === 8080 && (d.webFromAnywhere || (d.webFromMonitoring === true && from === 'prometheus'))) ||
        (from === 'prometheus' && port === 9113)
      );
    if (to === 'podwatch-a') return from === 'prometheus' && port === 8080;
    return false; // backup Jobs accept nothing
  };
  return egressOk() && ingressOk();
}

function check(name: string, s: Scenario, d: Design): void {
  const { policies, ignored } = networkPoliciesOf(s.objs, NS);
  assert.deepEqual(ignored, []);
  assert.ok(policies.length >= 6, `${name}: the policies are rendered (${policies.length})`);
  const model = buildModel({
    namespaces: [{ name: NS }, { name: 'monitoring' }, { name: 'kube-system' }, { name: 'storage' }],
    pods: s.pods,
    policies,
  });
  const m = expectedMatrix(model, sources, targets);
  const wrong: string[] = [];
  m.rows.forEach((row, i) => {
    m.columns.forEach((col, j) => {
      const cell = m.cells[i]?.[j];
      const target = targets[j];
      assert.ok(cell && target);
      const want = designed(row.split('/')[1] ?? row, target, d);
      if (cell.open !== want)
        wrong.push(
          `${row} -> ${col}: evaluator says ${cell.open ? 'open' : 'closed'}, ` +
            `design says ${want ? 'open' : 'closed'} (${cell.reason})`,
        );
    });
  });
  assert.deepEqual(wrong, [], `${name}:\n${formatTable(m)}`);
}

describe('webstack chart: rendered NetworkPolicies, evaluated', () => {
  it(
    'with the defaults: web→db:3306 only, Galera only among members, backup→db, ' +
      'DNS only to kube-dns, metrics only from monitoring, podwatch→API on 443/6443',
    async () => {
      check('defaults', await scenario(), {
        apiAnyPort: false,
        apiAnywhere: true,
        objectStoreIp: false,
        objectStoreNs: false,
        webFromAnywhere: true,
      });
    },
  );

  it(
    'with values-local.yaml: podwatch reaches the API only at ' +
      'the node bridge gateway (any port), nothing else outside',
    async () => {
      check('values-local.yaml', await scenario(undefined, [join(webstackChartDir, 'values-local.yaml')]), {
        apiAnyPort: true,
        apiAnywhere: false,
        objectStoreIp: false,
        objectStoreNs: false,
        webFromAnywhere: true,
      });
    },
  );

  it('object storage by CIDR and by namespace; web only from selected namespaces', async () => {
    const s = await scenario({
      networkPolicy: {
        objectStorage: { cidrs: ['192.0.2.0/24'], namespaces: ['storage'], ports: [443, 9000] },
        web: { allowFromAnywhere: false, fromNamespaces: ['monitoring'] },
      },
    });
    // web from "monitoring" only: prometheus may reach 8080, the stranger may not.
    const d: Design = {
      apiAnyPort: false,
      apiAnywhere: true,
      objectStoreIp: true,
      objectStoreNs: true,
      webFromAnywhere: false,
      webFromMonitoring: true,
    };
    const { policies } = networkPoliciesOf(s.objs, NS);
    const model = buildModel({
      namespaces: [{ name: NS }, { name: 'monitoring' }, { name: 'kube-system' }, { name: 'storage' }],
      pods: s.pods,
      policies,
    });
    const m = expectedMatrix(model, sources, targets);
    const cell = (row: string, col: Target): boolean | undefined =>
      m.cells[
        m.rows.indexOf(`${NS}/${row}`) >= 0 ? m.rows.indexOf(`${NS}/${row}`) : m.rows.indexOf(`monitoring/${row}`)
      ]?.[m.columns.indexOf(targetName(col))]?.open;
    assert.equal(cell('prometheus', t(p('web-a'), 8080)), true);
    assert.equal(cell('stranger', t(p('web-a'), 8080)), false);
    // Object storage: 443 on the CIDR; 9000 in the storage namespace (the listed ports apply to both).
    assert.equal(cell('backup-a', t(ipEndpoint(OBJECT_STORE_IP), 443)), true);
    assert.equal(cell('backup-a', t(p('minio'), 9000)), true);
    assert.equal(cell('backup-a', t(ipEndpoint(INTERNET_IP), 443)), false);
    // The rest of the matrix is unchanged (podwatch can reach the object store's IP: the API default is anywhere).
    const wrong = m.rows.flatMap((row, i) =>
      m.columns.flatMap((col, j) => {
        const target = targets[j];
        if (!target) return [];
        const from = row.split('/')[1] ?? row;
        // port 9000 was opened to CIDR and namespace alike
        if (from === 'backup-a' && col.startsWith('storage/')) return [];
        const want =
          designed(from, target, d) ||
          (from === 'backup-a' && target.to.kind === 'ip' && target.to.ip === OBJECT_STORE_IP && target.port === 9000);
        return m.cells[i]?.[j]?.open === want ? [] : [`${row} -> ${col}`];
      }),
    );
    assert.deepEqual(wrong, [], formatTable(m));
  });

  it(
    'with values-local.yaml: clients outside the cluster (the ' +
      'host on the node bridge) reach web and podwatch, never the db',
    async () => {
      // The load-balanced Services use externalTrafficPolicy Local, so the policies see the client's own address.
      const s = await scenario(undefined, [join(webstackChartDir, 'values-local.yaml')]);
      const { policies } = networkPoliciesOf(s.objs, NS);
      const model = buildModel({
        namespaces: [{ name: NS }, { name: 'monitoring' }, { name: 'kube-system' }, { name: 'storage' }],
        pods: s.pods,
        policies,
      });
      const host = ipEndpoint('10.77.42.1');
      const outsider = ipEndpoint(INTERNET_IP);
      const m = expectedMatrix(model, [host, outsider], targets);
      const open = (from: number, target: Target): boolean | undefined =>
        m.cells[from]?.[m.columns.indexOf(targetName(target))]?.open;
      assert.equal(open(0, t(p('web-a'), 8080)), true, 'host -> web');
      assert.equal(open(0, t(p('podwatch-a'), 8080)), true, 'host -> podwatch');
      assert.equal(open(1, t(p('web-a'), 8080)), true, 'web is open to anyone (networkPolicy.web.allowFromAnywhere)');
      assert.equal(open(1, t(p('podwatch-a'), 8080)), false, 'podwatch admits only the node bridge');
      for (const target of targets.filter((x) => x.to.kind === 'pod' && x.to.name === 'db-1'))
        for (const from of [0, 1]) assert.equal(open(from, target), false, `${m.rows[from]} -> ${targetName(target)}`);
      for (const port of [9113, 8082])
        assert.equal(open(0, t(p('web-a'), port)), false, `host -> web:${port} (metrics and status stay closed)`);
    },
  );

  it('networkPolicy.podwatch: its namespaces and CIDRs reach podwatch, next to the metrics namespaces', async () => {
    const s = await scenario({ networkPolicy: { podwatch: { fromNamespaces: [NS], fromCIDRs: ['192.0.2.0/24'] } } });
    const { policies } = networkPoliciesOf(s.objs, NS);
    const model = buildModel({
      namespaces: [{ name: NS }, { name: 'monitoring' }, { name: 'kube-system' }, { name: 'storage' }],
      pods: s.pods,
      policies,
    });
    const target = t(p('podwatch-a'), 8080);
    const m = expectedMatrix(
      model,
      [p('stranger'), p('prometheus'), p('coredns'), ipEndpoint(OBJECT_STORE_IP), ipEndpoint(INTERNET_IP)],
      [target],
    );
    assert.deepEqual(
      m.cells.map((row) => row[0]?.open),
      [true, true, false, true, false],
      formatTable(m),
    );
  });

  it('renders no policy with networkPolicy.enabled=false', async () => {
    const s = await scenario({ networkPolicy: { enabled: false } });
    assert.deepEqual(networkPoliciesOf(s.objs, NS).policies, []);
  });
});
