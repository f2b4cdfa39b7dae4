// The db objects of the webstack chart are accepted by the real API server (kubectl apply
// --dry-run=server) in a namespace that enforces Pod Security "restricted", and the Pod the StatefulSet
// controller would create from the template (with its claim bound in) is admitted too.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { helmTemplate } from '../../../../src/chart/helm.js';
import { ofKind, parseManifests } from '../../../../src/chart/manifests.js';
import {
  assertPodsAdmitted,
  assertServerAccepts,
  podsOfWorkloads,
  useTestNamespace,
} from '../../../helpers/dry-run.js';

const variants: { name: string; db: Record<string, unknown> }[] = [
  { name: 'defaults (3-member Galera)', db: {} },
  { name: 'standalone', db: { mode: 'standalone', replicaCount: 1 } },
  {
    name: 'metrics, existingSecret, 5 members, custom storage',
    db: {
      replicaCount: 5,
      metrics: { enabled: true },
      auth: { existingSecret: 'db-creds', database: 'shop', username: 'shop' },
      persistence: { size: '1Gi', storageClass: 'local-path', accessModes: ['ReadWriteOncePod'] },
      service: { type: 'NodePort', port: 3306, annotations: {} },
    },
  },
];

describe('webstack chart db: server-side dry-run against the real control plane', () => {
  const suite = useTestNamespace('chart-db', { restricted: true });

  for (const variant of variants) {
    it(`accepts every db object rendered with ${variant.name}, and admits its pod as "restricted"`, async () => {
      const objs = parseManifests(
        await helmTemplate({ release: 'ws', namespace: suite.ns, values: { db: variant.db } }),
      ).filter((o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'db');
      assert.ok(ofKind(objs, 'StatefulSet').length === 1);
      await assertServerAccepts(suite.cluster, objs);
      assert.equal(await assertPodsAdmitted(suite.cluster, objs, suite.ns), 1, 'the member pod was checked');
    });
  }

  it('the namespace really enforces "restricted": a db pod running as root is refused', async () => {
    const objs = parseManifests(
      await helmTemplate({
        release: 'bad',
        namespace: suite.ns,
        values: { db: { podSecurityContext: { runAsUser: 0, runAsNonRoot: false } } },
      }),
    );
    const sts = ofKind(objs, 'StatefulSet').find((o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'db');
    assert.ok(sts);
    const pod = await suite.cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], {
      input: stringify(podsOfWorkloads([sts], suite.ns)[0]),
      allowFailure: true,
    });
    assert.notEqual(pod.code, 0);
    assert.match(pod.stderr, /violates PodSecurity "restricted/);
  });
});
