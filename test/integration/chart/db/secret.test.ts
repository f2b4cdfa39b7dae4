// The db Secret against a real API server: generated on install, the same passwords after an upgrade
// (helm's lookup reads the live Secret), and still there after uninstall (resource-policy keep), because
// the accounts in the members' data dirs were created with those passwords.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { webstackChartDir } from '../../../../src/chart/helm.js';
import { helmUninstall, helmUpgradeInstall } from '../../../../src/kube/helm-release.js';
import type { Kube } from '../../../../src/kube/kube.js';
import { testCluster, TestNamespaces, type TestCluster } from '../../../helpers/cluster.js';

describe('webstack chart db: the Secret is generated once and kept', () => {
  let cluster: TestCluster;
  let namespaces: TestNamespaces;
  let ns: string;
  let kube: Kube;

  before(async () => {
    cluster = await testCluster();
    namespaces = new TestNamespaces(cluster);
    ns = await namespaces.create('chart-db-secret');
    kube = cluster.kube(ns);
  });
  after(() => namespaces.cleanup());

  const passwords = async (): Promise<Record<string, string>> => {
    const s = await cluster.core.readNamespacedSecret({ name: 'ws-webstack-db', namespace: ns });
    return s.data ?? {};
  };

  it('keeps the passwords across upgrades and after uninstall', async () => {
    // Only the db objects matter here; nothing gets scheduled (no nodes needed).
    const values = { webinfo: { enabled: false }, podwatch: { enabled: false } };
    const release = { release: 'ws', chartDir: webstackChartDir };
    await helmUpgradeInstall(kube, { ...release, values });
    const first = await passwords();
    assert.match(Buffer.from(first['mariadb-root-password'] ?? '', 'base64').toString(), /^[A-Za-z0-9]{32}$/);
    assert.match(Buffer.from(first['mariadb-password'] ?? '', 'base64').toString(), /^[A-Za-z0-9]{32}$/);

    await helmUpgradeInstall(kube, {
      ...release,
      values: { ...values, db: { config: { mysqld: { max_connections: 300 } } } },
    });
    assert.deepEqual(await passwords(), first, 'an upgrade must not regenerate the passwords');

    await helmUninstall(kube, 'ws');
    assert.deepEqual(await passwords(), first, 'uninstall keeps the Secret (helm.sh/resource-policy: keep)');

    // Reinstalling adopts nothing new: the kept Secret's passwords are still the ones in use.
    await helmUpgradeInstall(kube, { ...release, values, extraArgs: ['--take-ownership'] });
    assert.deepEqual(await passwords(), first);
  });
});
