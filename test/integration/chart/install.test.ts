// helm install and upgrade against the real control plane (no nodes needed: the controllers still act).
// The ReplicaSet controller creates the 3 web pods in a Pod Security "restricted" namespace (so the real
// pods are admitted, not only a dry run); a config change creates a new ReplicaSet (the checksum rolls the
// pods); a replica change scales the same one; uninstall removes what install created.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type * as k8s from '@kubernetes/client-node';
import { webstackChartDir } from '../../../src/chart/helm.js';
import { helmUninstall, helmUpgradeInstall } from '../../../src/kube/helm-release.js';
import type { Kube } from '../../../src/kube/kube.js';
import { eventually, testCluster, TestNamespaces, type TestCluster } from '../../helpers/cluster.js';

const webSelector = 'app.kubernetes.io/instance=ws,app.kubernetes.io/component=web';

describe('webstack chart: helm install and upgrade against the real control plane', () => {
  let cluster: TestCluster;
  let namespaces: TestNamespaces;
  let ns: string;
  let kube: Kube;
  // The db has tests of its own (and needs storage); this file is about the web tier and podwatch.
  const base = { db: { enabled: false } };
  const release = { release: 'ws', chartDir: webstackChartDir };

  before(async () => {
    cluster = await testCluster();
    namespaces = new TestNamespaces(cluster);
    ns = await namespaces.create('install');
    kube = cluster.kube(ns);
    await cluster.kubectl(['label', 'namespace', ns, 'pod-security.kubernetes.io/enforce=restricted']);
    await eventually(
      'the default ServiceAccount',
      async () => (await cluster.core.readNamespacedServiceAccount({ name: 'default', namespace: ns })).metadata?.name,
      60_000,
    );
  });
  after(() => namespaces.cleanup());

  const replicaSets = async (): Promise<k8s.V1ReplicaSet[]> =>
    (await cluster.apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: webSelector })).items;
  const webPods = async (): Promise<k8s.V1Pod[]> =>
    (await cluster.core.listNamespacedPod({ namespace: ns, labelSelector: webSelector })).items;

  it('installs; the ReplicaSet controller creates 3 web pods that "restricted" admits', async () => {
    await helmUpgradeInstall(kube, { ...release, values: base });
    const pods = await eventually(
      '3 web pods',
      async () => {
        const p = await webPods();
        return p.length === 3 ? p : undefined;
      },
      60_000,
    );
    for (const pod of pods) {
      assert.equal(pod.spec?.initContainers?.[0]?.name, 'render-page');
      assert.equal(pod.spec?.securityContext?.runAsNonRoot, true);
    }
    const events = (await cluster.core.listNamespacedEvent({ namespace: ns })).items;
    assert.deepEqual(
      events.filter((e) => e.reason === 'FailedCreate').map((e) => e.message),
      [],
      'no pod was refused',
    );
    assert.equal((await replicaSets()).length, 1);
    const podwatch = await eventually(
      '2 podwatch pods',
      async () => {
        const p = (
          await cluster.core.listNamespacedPod({ namespace: ns, labelSelector: 'app.kubernetes.io/component=podwatch' })
        ).items;
        return p.length === 2 ? p : undefined;
      },
      60_000,
    );
    assert.equal(podwatch[0]?.spec?.serviceAccountName, 'ws-webstack-podwatch');
  });

  it('a replica change scales the same ReplicaSet; a config change creates a new one (a rollout)', async () => {
    const [first] = await replicaSets();
    assert.ok(first?.metadata?.name);
    await helmUpgradeInstall(kube, { ...release, values: { ...base, web: { replicaCount: 4 } } });
    await eventually('4 web pods', async () => ((await webPods()).length === 4 ? true : undefined), 60_000);
    assert.deepEqual(
      (await replicaSets()).map((rs) => rs.metadata?.name),
      [first.metadata.name],
      'no rollout for a replica change',
    );

    await helmUpgradeInstall(kube, {
      ...release,
      values: { ...base, web: { replicaCount: 4, config: { keepaliveTimeout: 10 } } },
    });
    const sets = await eventually(
      'a second ReplicaSet',
      async () => {
        const r = await replicaSets();
        return r.length === 2 ? r : undefined;
      },
      60_000,
    );
    const checksums = new Set(sets.map((rs) => rs.spec?.template?.metadata?.annotations?.['checksum/config']));
    assert.equal(checksums.size, 2, 'the new ReplicaSet carries the new config checksum');
    const cm = await cluster.core.readNamespacedConfigMap({ name: 'ws-webstack-web', namespace: ns });
    assert.match(cm.data?.['nginx.conf'] ?? '', /keepalive_timeout 10;/);
  });

  it('uninstall removes the release', async () => {
    await helmUninstall(kube, 'ws');
    await eventually(
      'the web Deployment to be gone',
      async () => {
        const list = await cluster.apps.listNamespacedDeployment({ namespace: ns });
        return list.items.length === 0 ? true : undefined;
      },
      60_000,
    );
    const cms = await cluster.core.listNamespacedConfigMap({
      namespace: ns,
      labelSelector: 'app.kubernetes.io/instance=ws',
    });
    assert.equal(cms.items.length, 0);
  });
});
