// The chart's rendered MultiNetworkPolicies on the secondary network (net1), evaluated with
// src/netpol/multinet.ts (the NetworkPolicy evaluator over the pods' net1 addresses): only db members talk
// to each other on the Galera and SQL ports, the backup Jobs reach SQL only, and another pod attached to
// the same network reaches nothing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Pod, V1PodTemplateSpec } from '@kubernetes/client-node';
import { helmTemplate } from '../../../../src/chart/helm.js';
import { parseManifests, type K8sObject } from '../../../../src/chart/manifests.js';
import { multiNetworkModel, type MultiNetworkPolicy } from '../../../../src/netpol/multinet.js';
import { expectedMatrix, formatTable, type Target } from '../../../../src/netpol/matrix.js';
import { podEndpoint, type Protocol } from '../../../../src/netpol/evaluator.js';

const NS = 'shop';
const NET = `${NS}/web-webstack-dbnet`;

function pod(
  name: string,
  labels: Record<string, string>,
  net1?: string,
  ports: { name?: string; containerPort: number; protocol?: string }[] = [],
): V1Pod {
  const status = [
    { name: 'kstack', default: true, ips: [`10.244.9.${String(10 + name.length)}`] },
    ...(net1 ? [{ name: NET, interface: 'net1', ips: [net1] }] : []),
  ];
  return {
    metadata: {
      name,
      namespace: NS,
      labels,
      annotations: { 'k8s.v1.cni.cncf.io/network-status': JSON.stringify(status) },
    },
    spec: { containers: [{ name: 'c', ports }] },
    status: { phase: 'Running', podIP: status[0]?.ips[0] },
  };
}

describe('webstack chart: rendered MultiNetworkPolicies on net1, evaluated', () => {
  it('db↔db on SQL and Galera ports, backup→db SQL only, nothing for another pod on net1', async () => {
    const objs = parseManifests(
      await helmTemplate({
        release: 'web',
        namespace: NS,
        values: { networks: { secondary: { enabled: true, force: true, attachBackup: true } } },
      }),
    );
    const mnps = objs.filter((o): o is K8sObject => o.kind === 'MultiNetworkPolicy') as unknown as MultiNetworkPolicy[];
    assert.equal(mnps.length, 2);
    const dbTemplate = (objs.find((o) => o.kind === 'StatefulSet')?.spec as { template: V1PodTemplateSpec }).template;
    const dbLabels = dbTemplate.metadata?.labels ?? {};
    const dbPorts = (dbTemplate.spec?.containers ?? []).flatMap((c) => c.ports ?? []);
    const backupLabels = {
      'app.kubernetes.io/name': 'webstack',
      'app.kubernetes.io/instance': 'web',
      'app.kubernetes.io/component': 'backup',
    };
    const pods = [
      pod('db-0', dbLabels, '10.78.0.10', dbPorts),
      pod('db-1', dbLabels, '10.78.0.11', dbPorts),
      pod('backup-a', backupLabels, '10.78.0.20'),
      pod('intruder', { app: 'other' }, '10.78.0.30', [{ containerPort: 3306 }]),
      pod('web-a', { ...backupLabels, 'app.kubernetes.io/component': 'web' }), // not on net1
    ];
    const model = multiNetworkModel({ network: NET, namespaces: [{ name: NS }], pods, policies: mnps });
    const t = (to: string, port: number, protocol: Protocol = 'TCP'): Target => ({
      to: podEndpoint(NS, to),
      port,
      protocol,
    });
    const targets = [
      t('db-1', 3306),
      t('db-1', 4567),
      t('db-1', 4567, 'UDP'),
      t('db-1', 4568),
      t('db-1', 4444),
      t('db-1', 8081),
      t('db-1', 9104),
      t('db-1', 22),
      t('backup-a', 3306),
      t('intruder', 3306),
    ];
    const sources = ['db-0', 'backup-a', 'intruder'].map((n) => podEndpoint(NS, n));
    const m = expectedMatrix(model, sources, targets);
    const open = (from: string, col: string): boolean | undefined =>
      m.cells[m.rows.indexOf(`${NS}/${from}`)]?.[m.columns.indexOf(`${NS}/${col}`)]?.open;
    const want: Record<string, string[]> = {
      'db-0': ['db-1:3306', 'db-1:4567', 'db-1:4567/UDP', 'db-1:4568', 'db-1:4444', 'db-1:8081'],
      'backup-a': ['db-1:3306'],
      intruder: [],
    };
    const wrong: string[] = [];
    for (const [from, cols] of Object.entries(want)) {
      for (const col of m.columns.map((c) => c.slice(NS.length + 1))) {
        const expected = cols.includes(col) || col.startsWith(`${from}:`); // a pod cannot block itself
        if (open(from, col) !== expected)
          wrong.push(`${from} -> ${col}: evaluator ${String(open(from, col))}, design ${String(expected)}`);
      }
    }
    assert.deepEqual(wrong, [], formatTable(m));
    assert.equal(model.pods.size, 4, 'web (not attached) is not on net1');
  });
});
