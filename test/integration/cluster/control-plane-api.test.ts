// The control plane is real: the API server stores and serves objects, the controller-manager turns a
// Deployment into a ReplicaSet and Pods, and the scheduler refuses a Pod no node can take, with its reason.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { apiErrorMessage, eventually, testCluster, TestNamespaces, type TestCluster } from '../../helpers/cluster.js';

const pause = (name: string, extra: Partial<k8s.V1PodSpec> = {}): k8s.V1Pod => ({
  metadata: { name, labels: { app: name } },
  spec: {
    containers: [
      {
        name: 'main',
        image: 'registry.k8s.io/pause:3.10',
        securityContext: {
          allowPrivilegeEscalation: false,
          runAsNonRoot: true,
          runAsUser: 65535,
          capabilities: { drop: ['ALL'] },
          seccompProfile: { type: 'RuntimeDefault' },
        },
      },
    ],
    ...extra,
  },
});

const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

describe('control plane API', () => {
  let cluster: TestCluster;
  let namespaces: TestNamespaces;
  let ns: string;
  before(async () => {
    cluster = await testCluster();
    namespaces = new TestNamespaces(cluster);
    ns = await namespaces.create('api');
  });
  after(() => namespaces.cleanup());

  it('creates, updates and deletes a Pod, and kubectl reads back each state', async () => {
    const created = await cluster.core.createNamespacedPod({ namespace: ns, body: pause('web-a') });
    assert.equal(created.metadata?.name, 'web-a');
    assert.ok(created.metadata?.uid, 'the API server assigns a uid');

    const read = JSON.parse(
      (await cluster.kubectl(['get', 'pod', 'web-a', '-n', ns, '-o', 'json'])).stdout,
    ) as k8s.V1Pod;
    assert.equal(read.metadata?.uid, created.metadata?.uid);
    assert.equal(read.spec?.containers[0]?.image, 'registry.k8s.io/pause:3.10');

    const patched = await cluster.core.patchNamespacedPod(
      { name: 'web-a', namespace: ns, body: { metadata: { labels: { tier: 'web' } } } },
      mergePatch,
    );
    assert.equal(patched.metadata?.labels?.tier, 'web');
    assert.notEqual(patched.metadata?.resourceVersion, created.metadata?.resourceVersion);
    const label = (await cluster.kubectl(['get', 'pod', 'web-a', '-n', ns, '-o', 'jsonpath={.metadata.labels.tier}']))
      .stdout;
    assert.equal(label, 'web');

    // No kubelet runs the pod, so deletion is immediate only when forced with grace period 0.
    await cluster.core.deleteNamespacedPod({ name: 'web-a', namespace: ns, gracePeriodSeconds: 0 });
    const after = await cluster.kubectl(['get', 'pod', 'web-a', '-n', ns, '-o', 'name'], { allowFailure: true });
    assert.notEqual(after.code, 0);
    assert.match(after.stderr, /NotFound|not found/);
  });

  it('enforces Pod Security "restricted" on a namespace labelled for it', async () => {
    const restricted = await namespaces.create('psa');
    await cluster.kubectl(['label', 'namespace', restricted, 'pod-security.kubernetes.io/enforce=restricted']);
    const privileged: k8s.V1Pod = {
      metadata: { name: 'root' },
      spec: {
        containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.10', securityContext: { privileged: true } }],
      },
    };
    await assert.rejects(
      cluster.core.createNamespacedPod({ namespace: restricted, body: privileged }),
      (err: unknown) => {
        assert.match(
          apiErrorMessage(err),
          /pods "root" is forbidden: violates PodSecurity "restricted:latest": privileged/,
        );
        return true;
      },
    );
    const ok = await cluster.core.createNamespacedPod({ namespace: restricted, body: pause('fine') });
    assert.equal(ok.metadata?.name, 'fine');
  });

  it('turns a Deployment into a ReplicaSet and Pods (kube-controller-manager)', async () => {
    const labels = { app: 'web' };
    await cluster.apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 3,
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: pause('unused').spec! },
        },
      },
    });
    const rs = await eventually('a ReplicaSet owned by the Deployment', async () => {
      const list = await cluster.apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: 'app=web' });
      return list.items.find((r) =>
        r.metadata?.ownerReferences?.some((o) => o.kind === 'Deployment' && o.name === 'web'),
      );
    });
    assert.equal(rs.spec?.replicas, 3);
    const pods = await eventually('3 Pods owned by the ReplicaSet', async () => {
      const list = await cluster.core.listNamespacedPod({ namespace: ns, labelSelector: 'app=web' });
      const owned = list.items.filter((p) =>
        p.metadata?.ownerReferences?.some((o) => o.kind === 'ReplicaSet' && o.name === rs.metadata?.name),
      );
      return owned.length === 3 ? owned : undefined;
    });
    assert.equal(new Set(pods.map((p) => p.metadata?.name)).size, 3);
  });

  it(
    'leaves a Pod whose nodeSelector matches no node Pending, ' +
      "with the scheduler's reason, and binds it once a node matches",
    async () => {
      // A registered Node object without a kubelet: real API data the real scheduler considers.
      const nodeName = `node-${ns}`;
      await cluster.core.createNode({
        body: {
          metadata: { name: nodeName, labels: { disktype: 'hdd' } },
          status: {
            capacity: { cpu: '4', memory: '8Gi', pods: '110' },
            allocatable: { cpu: '4', memory: '8Gi', pods: '110' },
          },
        },
      });
      try {
        await cluster.core.createNamespacedPod({
          namespace: ns,
          body: pause('wants-ssd', {
            nodeSelector: { disktype: 'ssd' },
            // The node has no kubelet, so it carries the not-ready taints; tolerate them so the selector decides.
            tolerations: [{ operator: 'Exists' }],
          }),
        });
        const condition = await eventually('PodScheduled=False from the scheduler', async () => {
          const pod = await cluster.core.readNamespacedPod({ name: 'wants-ssd', namespace: ns });
          return pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
        });
        assert.equal(condition.reason, 'Unschedulable');
        assert.match(
          condition.message ?? '',
          /0\/\d+ nodes are available: .*didn't match Pod's node affinity\/selector/,
        );
        const pod = await cluster.core.readNamespacedPod({ name: 'wants-ssd', namespace: ns });
        assert.equal(pod.status?.phase, 'Pending');
        assert.equal(pod.spec?.nodeName, undefined);

        await cluster.core.patchNode(
          { name: nodeName, body: { metadata: { labels: { disktype: 'ssd' } } } },
          mergePatch,
        );
        const bound = await eventually('the scheduler to bind the Pod', async () => {
          const p = await cluster.core.readNamespacedPod({ name: 'wants-ssd', namespace: ns });
          return p.spec?.nodeName;
        });
        assert.equal(bound, nodeName);
      } finally {
        await cluster.core
          .deleteNamespacedPod({ name: 'wants-ssd', namespace: ns, gracePeriodSeconds: 0 })
          .catch(() => undefined);
        await cluster.core.deleteNode({ name: nodeName }).catch(() => undefined);
      }
    },
  );
});
