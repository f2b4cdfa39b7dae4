// The chart's placement presets on kstack's local cluster (the nodes group's 3 nodes: 1 web node, 2 db
// nodes tainted dedicated=db:NoSchedule): the scheduler puts the pods where the presets say. The chart is
// rendered with values-local.yaml and preset "hard", as `kstack up` does on a cluster this small (values-local's
// "ha" needs 3 db nodes; the stack group's 5-node cluster runs it, and prove R8/R11
// check it there); each workload's pod template keeps its labels and every placement
// field (affinity, tolerations, nodeSelector) as rendered, and runs the pause image instead of the real
// containers — scheduling depends only on those fields (and on requests, dropped here so the small nodes
// fit), and this test is about scheduling, not about running the stack (the stack e2e does that).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { V1PodTemplateSpec } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { helmTemplate, webstackChartDir } from '../../src/chart/helm.js';
import { parseManifests, type K8sObject } from '../../src/chart/manifests.js';
import { createProgress } from '../../src/util/progress.js';
import { eventually } from '../helpers/cluster.js';
import { useLocalCluster } from '../helpers/local-cluster.js';

const NAME = 'chart-e2e';
const progress = createProgress();

interface PodList {
  items: {
    metadata: { name: string; labels?: Record<string, string> };
    spec: { nodeName?: string };
    status: { phase: string; conditions?: { type: string; status: string; reason?: string; message?: string }[] };
  }[];
}

/** A Deployment named `name` whose pods carry the rendered template's labels and placement, running pause. */
function placedDeployment(w: K8sObject, name: string, replicas: number): K8sObject {
  const t = (w.spec as { template: V1PodTemplateSpec }).template;
  const spec = t.spec;
  assert.ok(spec);
  const labels = { ...(t.metadata?.labels ?? {}), 'kstack.io/placement-test': name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { 'kstack.io/placement-test': name } },
      template: {
        metadata: {
          labels,
          ...(t.metadata?.annotations?.['k8s.v1.cni.cncf.io/networks']
            ? { annotations: { 'k8s.v1.cni.cncf.io/networks': t.metadata.annotations['k8s.v1.cni.cncf.io/networks'] } }
            : {}),
        },
        spec: {
          ...(spec.affinity ? { affinity: spec.affinity } : {}),
          ...(spec.tolerations ? { tolerations: spec.tolerations } : {}),
          ...(spec.nodeSelector ? { nodeSelector: spec.nodeSelector } : {}),
          containers: [{ name: 'pause', image: 'kstack.local/pause:local', imagePullPolicy: 'Never' }],
        },
      },
    },
  };
}

const workload = (objs: K8sObject[], kind: string, component: string): K8sObject => {
  const w = objs.find((o) => o.kind === kind && o.metadata.labels?.['app.kubernetes.io/component'] === component);
  assert.ok(w, `${kind} ${component} rendered`);
  return w;
};

describe('chart placement presets on the local cluster', { timeout: 20 * 60_000 }, () => {
  const cluster = useLocalCluster(NAME, progress);
  const kubectl = (args: string[], input?: string): Promise<string> => cluster.kubectl(args, input);
  // On the group's shared cluster, leave nothing of this file in `default` for the next file.
  after(async () => {
    if (!cluster.shared) return;
    await kubectl(['delete', 'deployments', '-l', 'kstack.io/placement-test', '--wait=true', '--timeout=120s']).catch(
      () => undefined,
    );
    await kubectl(['delete', 'network-attachment-definitions,multi-networkpolicies', '--all', '--wait=true']).catch(
      () => undefined,
    );
  });

  it('values-local.yaml (hard): web pods on the web node, the 3 db members on the 2 db nodes, both used', async () => {
    const objs = parseManifests(
      await helmTemplate({
        release: 'ws',
        namespace: 'default',
        valuesFiles: [join(webstackChartDir, 'values-local.yaml')],
        values: { placement: { preset: 'hard' } },
      }),
    );
    const web = placedDeployment(workload(objs, 'Deployment', 'web'), 'placed-web', 3);
    const db = placedDeployment(workload(objs, 'StatefulSet', 'db'), 'placed-db', 3);
    // values-local attaches the db to the secondary network: its pods start only once the NAD exists.
    const net1 = objs.filter((o) => o.kind === 'NetworkAttachmentDefinition' || o.kind === 'MultiNetworkPolicy');
    await kubectl(['apply', '-f', '-'], [...net1, web, db].map((o) => stringify(o)).join('---\n'));
    await kubectl(['rollout', 'status', 'deployment/placed-web', 'deployment/placed-db', '--timeout=180s']);
    const pods = JSON.parse(await kubectl(['get', 'pods', '-o', 'json'])) as PodList;
    const nodesOf = (name: string): string[] =>
      pods.items
        .filter((p) => p.metadata.labels?.['kstack.io/placement-test'] === name)
        .map((p) => p.spec.nodeName ?? '');
    assert.deepEqual([...new Set(nodesOf('placed-web'))], ['web-1']);
    assert.equal(nodesOf('placed-web').length, 3);
    const dbNodes = nodesOf('placed-db');
    assert.equal(dbNodes.length, 3);
    assert.deepEqual(
      [...new Set(dbNodes)].sort(),
      ['db-1', 'db-2'],
      'only db nodes, and the preferred anti-affinity uses both',
    );
    await kubectl(['delete', 'deployment', 'placed-web', 'placed-db', '--wait=false']);
  });

  it(
    "a db pod aimed at the db nodes without the preset's toleration " +
      '(preset none) stays Pending, and the scheduler says why',
    async () => {
      const objs = parseManifests(
        await helmTemplate({
          release: 'ws',
          namespace: 'default',
          valuesFiles: [join(webstackChartDir, 'values-local.yaml')],
          values: { placement: { preset: 'none' }, db: { nodeSelector: { 'node-role.kstack.io/db': '' } } },
        }),
      );
      const db = placedDeployment(workload(objs, 'StatefulSet', 'db'), 'untolerated-db', 1);
      assert.equal((db.spec as { template: { spec: { tolerations?: unknown } } }).template.spec.tolerations, undefined);
      await kubectl(['apply', '-f', '-'], stringify(db));
      const reason = await eventually(
        'the scheduler reports the pod unschedulable',
        async () => {
          const pods = JSON.parse(
            await kubectl(['get', 'pods', '-l', 'kstack.io/placement-test=untolerated-db', '-o', 'json']),
          ) as PodList;
          const cond = pods.items[0]?.status.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
          return cond?.reason === 'Unschedulable'
            ? `${pods.items[0]?.status.phase ?? ''}: ${cond.message ?? ''}`
            : undefined;
        },
        60_000,
      );
      assert.match(reason, /^Pending: /);
      assert.match(reason, /2 node\(s\) had untolerated taint/, reason); // the two db nodes: their dedicated=db taint
      assert.match(reason, /didn't match Pod's node affinity\/selector/, reason);
    },
  );

  it(
    'values-local.yaml with the secondary network on: ' +
      'db pods on both db nodes get net1 from the rendered NAD, in its subnet',
    async () => {
      const objs = parseManifests(
        await helmTemplate({
          release: 'ws',
          namespace: 'default',
          valuesFiles: [join(webstackChartDir, 'values-local.yaml')],
          values: { networks: { secondary: { enabled: true } }, placement: { preset: 'hard' } },
          extraArgs: ['--api-versions', 'k8s.cni.cncf.io/v1'],
        }),
      );
      const nad = objs.filter((o) => o.kind === 'NetworkAttachmentDefinition' || o.kind === 'MultiNetworkPolicy');
      assert.equal(nad.length, 2);
      const db = placedDeployment(workload(objs, 'StatefulSet', 'db'), 'net1-db', 3);
      await kubectl(['apply', '-f', '-'], [...nad, db].map((o) => stringify(o)).join('---\n'));
      await kubectl(['rollout', 'status', 'deployment/net1-db', '--timeout=180s']);
      const pods = JSON.parse(
        await kubectl(['get', 'pods', '-l', 'kstack.io/placement-test=net1-db', '-o', 'json']),
      ) as {
        items: { metadata: { annotations?: Record<string, string> }; spec: { nodeName?: string } }[];
      };
      const nodes = new Set<string>();
      for (const p of pods.items) {
        const status = JSON.parse(p.metadata.annotations?.['k8s.v1.cni.cncf.io/network-status'] ?? '[]') as {
          name: string;
          interface?: string;
          ips?: string[];
        }[];
        const net1 = status.find((s) => s.interface === 'net1');
        assert.ok(net1, `net1 in ${JSON.stringify(status)}`);
        assert.equal(net1.name, 'default/ws-webstack-dbnet');
        assert.match(net1.ips?.[0] ?? '', /^10\.78\.0\.\d+$/);
        nodes.add(p.spec.nodeName ?? '');
      }
      assert.deepEqual([...nodes].sort(), ['db-1', 'db-2']);
    },
  );
});
