// The backup objects of the webstack chart are accepted by the real API server (kubectl apply
// --dry-run=server) in a namespace that enforces Pod Security "restricted": the CronJobs, the restore
// Job, the Secrets, the metrics Service, and the db member pod with its binlog archiver sidecar.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { helmTemplate } from '../../../../src/chart/helm.js';
import { ofKind, parseManifests } from '../../../../src/chart/manifests.js';
import { assertPodsAdmitted, assertServerAccepts, useTestNamespace } from '../../../helpers/dry-run.js';

describe('webstack chart backup: server-side dry-run against the real control plane', () => {
  const suite = useTestNamespace('chart-backup', { restricted: true });

  it(
    'accepts every backup object and the db StatefulSet with its archiver, ' +
      'and admits the Jobs\' and member\'s pods as "restricted"',
    async () => {
      const values = {
        backup: {
          enabled: true,
          storage: { bucket: 'backups', endpoint: 'http://minio:9000' },
          restore: { enabled: true, toTime: '2026-11-25T18:30:00Z', runId: 'r1' },
        },
      };
      const objs = parseManifests(await helmTemplate({ release: 'ws', namespace: suite.ns, values })).filter((o) =>
        ['backup', 'db'].includes(o.metadata.labels?.['app.kubernetes.io/component'] ?? ''),
      );
      assert.equal(ofKind(objs, 'CronJob').length, 2);
      assert.equal(ofKind(objs, 'Job').length, 1);
      await assertServerAccepts(suite.cluster, objs);
      // Both CronJobs, the restore Job and the member with its archiver.
      assert.equal(await assertPodsAdmitted(suite.cluster, objs, suite.ns), 4);
    },
  );
});
